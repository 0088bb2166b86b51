package org.enclaveruntime.cli;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ExitStatus;
import org.enclaveruntime.errors.GeneralErrors;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns every failure into what a user sees: "error E201: message" and a remedy line on stderr (or a JSON
 * object on stdout with --output json), and the documented exit status. A stack trace only with -v.
 */
final class ErrorReporter implements IExecutionExceptionHandler, IParameterExceptionHandler {

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
        EnclaveException error = ex instanceof EnclaveException e ? e
                : new EnclaveException(GeneralErrors.INTERNAL, ex.toString(), ex);
        boolean verbose = parsed.hasMatchedOption("-v");
        logFailure(error, ex);
        if (wantsJson(parsed)) {
            PrintWriter out = cmd.getOut();
            out.println(OutputOptions.toJson(Map.of("error", asMap(error))));
            out.flush();
        }
        return print(cmd.getErr(), error, verbose);
    }

    /** Prints "error CODE: message" and the remedy; returns the error's exit status. */
    static int print(PrintWriter err, EnclaveException error, boolean verbose) {
        err.println("error " + error.code().id() + ": " + error.getMessage());
        err.println("  remedy: " + error.remedy());
        if (verbose) {
            error.printStackTrace(err);
        } else if (error.code().exitStatus() == ExitStatus.INTERNAL) {
            err.println("  (run with -v for the stack trace)");
        }
        err.flush();
        return error.exitStatus().code();
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("error: " + ex.getMessage());
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
            err.println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
        }
        err.flush();
        return ExitStatus.USAGE.code();
    }

    static Map<String, Object> asMap(EnclaveException error) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("code", error.code().id());
        m.put("message", error.getMessage());
        m.put("remedy", error.remedy());
        m.put("exit_status", error.exitStatus().code());
        return m;
    }

    private static boolean wantsJson(ParseResult parsed) {
        ParseResult leaf = parsed;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
        }
        Object value = leaf.matchedOptionValue("--output", null);
        return value == OutputOptions.Format.json;
    }

    private static void logFailure(EnclaveException error, Exception original) {
        // Only failures are logged from here; the logger is touched lazily so a successful fast command
        // never pays for logging start-up.
        LoggerFactory.getLogger(ErrorReporter.class).debug("{} ({})", error, error.remedy(), original);
    }
}
