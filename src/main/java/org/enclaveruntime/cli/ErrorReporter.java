package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigProblem;
import org.enclaveruntime.config.InvalidConfigException;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
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
                : EnclaveException.unexpected(ex);
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

    /**
     * A usage error is reported like every other error: "error E110: message", the remedy, and with
     * --output json the same JSON error object on stdout. A missing argument also shows the synopsis, once.
     */
    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        EnclaveException error = new EnclaveException(GeneralErrors.USAGE, usageMessage(ex),
                "Run '" + name + " --help' for usage.", null);
        if (asksForJson(args)) {
            PrintWriter out = cmd.getOut();
            out.println(OutputOptions.toJson(Map.of("error", asMap(error))));
            out.flush();
        }
        PrintWriter err = cmd.getErr();
        err.println("error " + error.code().id() + ": " + error.getMessage());
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
            if (ex instanceof CommandLine.MissingParameterException) {
                // The heading's length, so that the lines wrap at the width and continue under the options.
                err.print(USAGE_HEADING + cmd.getHelp().synopsis(USAGE_HEADING.length()));
            }
            err.println("  remedy: " + error.remedy());
        }
        err.flush();
        return error.exitStatus().code();
    }

    private static final String USAGE_HEADING = "usage: ";

    /** picocli's message without its own "Error: " prefix, which would read "error E110: Error: ...". */
    static String usageMessage(ParameterException ex) {
        String m = ex.getMessage() == null ? "invalid command line" : ex.getMessage().strip();
        if (m.startsWith("Error: ")) {
            m = m.substring("Error: ".length());
        }
        return m.isEmpty() ? m : Character.toLowerCase(m.charAt(0)) + m.substring(1);
    }

    /** Whether the words ask for JSON output; read from the words, as a failed parse has no parse result. */
    static boolean asksForJson(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--output=json") || a.equals("-ojson") || a.equals("-o=json")
                    || (a.equals("--output") || a.equals("-o")) && i + 1 < args.length && args[i + 1].equals("json")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The JSON error object: code, message, remedy, exit_status. When there are several problems (a
     * configuration with more than one), code and message are the first one's, the remedy says to fix all,
     * and "problems" lists each with the same four fields.
     */
    static Map<String, Object> asMap(EnclaveException error) {
        if (error instanceof InvalidConfigException invalid && invalid.problems().size() > 1) {
            ConfigProblem first = invalid.problems().get(0);
            Map<String, Object> m = asMap(first.code(), first.message(), error.remedy());
            m.put("problems", invalid.problems().stream()
                    .map(p -> asMap(p.code(), p.message(), p.code().remedy())).toList());
            return m;
        }
        return asMap(error.code(), error.getMessage(), error.remedy());
    }

    private static Map<String, Object> asMap(ErrorCode code, String message, String remedy) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("code", code.id());
        m.put("message", message);
        m.put("remedy", remedy);
        m.put("exit_status", code.exitStatus().code());
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
