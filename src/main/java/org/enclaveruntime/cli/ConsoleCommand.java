package org.enclaveruntime.cli;

import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.EnclaveStatus;
import org.enclaveruntime.state.StatusReader;
import org.enclaveruntime.service.LifecycleErrors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** `enclavectl console`: the enclave's serial console, kept in debug mode only. */
@Command(name = "console", mixinStandardHelpOptions = true,
        description = "Print the enclave's console output (debug mode only).")
final class ConsoleCommand implements Callable<Integer> {
    @ParentCommand
    EnclaveCtl parent;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new output until the enclave stops.")
    boolean follow;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Wiring wiring = Wiring.forCommand(parent.global);
        EnclaveStatus status = new StatusReader(wiring.runDirectory()).read();
        Path console = status.consoleLog() != null ? Path.of(status.consoleLog()) : wiring.consoleLog();
        if (!Files.exists(console)) {
            if (status.state().needsHolder() && status.consoleLog() == null) {
                throw new EnclaveException(LifecycleErrors.NO_CONSOLE,
                        "the running enclave was started without debug, so its console is discarded");
            }
            throw new EnclaveException(LifecycleErrors.NO_CONSOLE, "there is no console log at " + console
                    + ": no enclave has run in debug mode with this log_dir");
        }
        InputStream in = null;
        try {
            in = Files.newInputStream(console);
            OutputStream out = System.out;
            byte[] buffer = new byte[8192];
            long position = 0;
            boolean stopped = false;
            while (true) {
                int n = in.read(buffer);
                if (n > 0) {
                    out.write(buffer, 0, n);
                    out.flush();
                    position += n;
                    continue;
                }
                if (!follow) {
                    return 0;
                }
                if (Files.size(console) < position) {
                    // The VMM rolled the capped log (copied to console.log.1, truncated): start over.
                    in.close();
                    in = Files.newInputStream(console);
                    position = 0;
                    continue;
                }
                if (stopped) {
                    return 0; // drained once more after the VMM let go: its last bytes are in
                }
                stopped = EnclaveLock.holder(wiring.runDirectory().lockFile()).isEmpty();
                if (!stopped) {
                    Thread.sleep(100);
                }
            }
        } catch (IOException e) {
            throw new EnclaveException(GeneralErrors.IO, "cannot read " + console + ": " + IoReason.of(e), e);
        } finally {
            if (in != null) {
                in.close();
            }
        }
    }
}
