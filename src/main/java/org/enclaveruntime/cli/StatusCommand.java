package org.enclaveruntime.cli;

import org.enclaveruntime.state.EnclaveStatus;
import org.enclaveruntime.state.StateJson;
import org.enclaveruntime.state.StatusReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** `enclavectl status`: what the enclave is doing, derived from the lock, the VMM's pid and the state file. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the enclave's state (STOPPED, STARTING, RUNNING, STOPPING, CRASHED) and what it runs.",
        footer = {"", "Exits 0 whenever the state could be determined, whatever it is; scripts read `state` "
                + "from --output json."})
final class StatusCommand implements Runnable {
    @ParentCommand
    EnclaveCtl parent;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        print(spec.commandLine().getOut(), parent.global, output);
    }

    /** What status prints, for picocli's command and for {@link StatusShortcut}, which runs without it. */
    static void print(PrintWriter out, GlobalOptions global, OutputOptions output) {
        EnclaveStatus status = new StatusReader(Wiring.forCommand(global).runDirectory()).read();
        output.printRendered(out, () -> StateJson.toJson(status), () -> render(status));
    }

    static String render(EnclaveStatus s) {
        List<String[]> rows = new ArrayList<>();
        rows.add(row("state", s.state().name()));
        rows.add(row("pid", s.pid()));
        rows.add(row("cid", s.cid()));
        rows.add(row("cpu_ids", s.cpuIds() == null ? null
                : s.cpuIds().stream().map(String::valueOf).collect(Collectors.joining(","))));
        rows.add(row("memory", s.memoryMib() == null ? null
                : s.memoryMib() + " MiB" + (s.pageSize() == null ? "" : " (" + s.pageSize() + " pages)")));
        rows.add(row("image", s.image()));
        if (s.measurements() != null) {
            s.measurements().forEach((k, v) -> rows.add(row(k, v)));
        }
        rows.add(row("vsock_socket", s.vsockSocket()));
        rows.add(row("console_log", s.consoleLog()));
        rows.add(row("started_at", s.startedAt()));
        rows.add(row("uptime", s.uptimeS() == null ? null : formatUptime(s.uptimeS())));
        if (s.lastError() != null) {
            rows.add(row("last_error", s.lastError().code() + ": " + s.lastError().message()
                    + " (" + s.lastError().at() + ")"));
        }
        StringBuilder out = new StringBuilder();
        for (String[] r : rows) {
            if (r[1] != null) {
                out.append(String.format("%-13s %s%n", r[0], r[1]));
            }
        }
        return out.toString();
    }

    private static String[] row(String name, Object value) {
        return new String[] {name, value == null ? null : value.toString()};
    }

    static String formatUptime(long seconds) {
        long d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
        if (d > 0) {
            return d + "d " + h + "h " + m + "m";
        }
        if (h > 0) {
            return h + "h " + m + "m " + s + "s";
        }
        return m > 0 ? m + "m " + s + "s" : s + "s";
    }
}
