package org.enclaveruntime.cli;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.sdk.EnclaveStatus;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * `enclavectl explain CODE` and `explain --list`: the long form of the error catalog, and of the sgx_status_t
 * values that module loads and calls fail with (docs/sdk.md), by value or name.
 */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Explain an error code (such as E201): what it means and how to fix it.",
                "Also explains the statuses of enclave module loads and calls (sgx_status_t), by value or name: "
                        + "0x2003, SGX_ERROR_INVALID_SIGNATURE or INVALID_SIGNATURE."})
final class ExplainCommand implements Runnable {
    static final class Selection {
        @Parameters(paramLabel = "CODE", completionCandidates = Codes.class,
                description = "The error code, as printed after 'error', or an enclave status (0x2003, "
                        + "SGX_ERROR_INVALID_SIGNATURE).")
        String code;

        @Option(names = "--list", description = "List every error code with its title.")
        boolean list;
    }

    /** Every error code, for shell completion (and the man page) of CODE. */
    static final class Codes implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ErrorCatalog.all().stream().map(ErrorCode::id).iterator();
        }
    }

    @ArgGroup(multiplicity = "1")
    Selection selection;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    /** The JSON of one code, with the field names of the error object (ErrorReporter.asMap). */
    static Map<String, Object> asMap(ErrorCode c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("code", c.id());
        m.put("title", c.title());
        m.put("remedy", c.remedy());
        m.put("exit_status", c.exitStatus().code());
        m.put("explanation", c.explanation());
        return m;
    }

    /** The JSON of one enclave status. */
    static Map<String, Object> asMap(EnclaveStatus s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", s.hex());
        m.put("value", s.code());
        m.put("name", s.sgxName());
        m.put("title", s.title());
        m.put("explanation", s.explanation());
        return m;
    }

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        if (selection.list) {
            List<ErrorCode> all = ErrorCatalog.all();
            output.print(out, all.stream().map(ExplainCommand::asMap).toList(), () -> {
                StringBuilder s = new StringBuilder();
                for (ErrorCode c : all) {
                    s.append(String.format("%-5s %-3d %s%n", c.id(), c.exitStatus().code(), c.title()));
                }
                return s.toString();
            });
            return;
        }
        int width = spec.usageMessage().width();
        var catalogued = ErrorCatalog.find(selection.code);
        if (catalogued.isEmpty()) {
            EnclaveStatus status = EnclaveStatus.parse(selection.code).orElseThrow(() -> new EnclaveException(
                    GeneralErrors.UNKNOWN_CODE, "no error code or enclave status '" + selection.code + "'"));
            output.print(out, asMap(status), () -> status.hex() + " " + status.sgxName() + ": " + status.title()
                    + "\n\n" + wrap(status.explanation(), width) + "\n"
                    + wrap("An sgx_status_t value: what an enclave module load or call fails with (EnclaveStatus in "
                    + "the Java SDK, docs/sdk.md), not an exit status of enclavectl.", width));
            return;
        }
        ErrorCode code = catalogued.get();
        output.print(out, asMap(code), () -> code.id() + ": " + code.title() + "\n\n"
                + wrap(code.explanation(), width) + "\n"
                + wrap("What to do: " + code.remedy(), width)
                + wrap("Exit status: " + code.exitStatus().code() + " (" + code.exitStatus().meaning() + ")", width));
    }

    /** {@code text} broken into lines of at most {@code width} columns, between words, as help text is. */
    private static String wrap(String text, int width) {
        return WordWrappingHelp.wrap(text, width).lines().map(String::stripTrailing)
                .collect(Collectors.joining("\n", "", "\n"));
    }
}
