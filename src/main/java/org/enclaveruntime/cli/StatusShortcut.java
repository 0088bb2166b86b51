package org.enclaveruntime.cli;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * `enclavectl status` without picocli. Scripts call status in loops, and building picocli's model of even one
 * command (reflection over its annotations, method handles for every option) was most of its start-up
 * (docs/performance.md). Only the plain forms are taken here: `status` with `--config FILE`, `--config=FILE`,
 * `-v`/`--verbose` before or after it and `-o`/`--output text|json` after it, each at most once. Every other
 * command line, and any failure, goes to picocli, which then prints what it always printed: status only reads,
 * so running it a second time there changes nothing.
 */
final class StatusShortcut {
    /** A plain status command line, read. */
    record Request(Path config, boolean verbose, boolean json) {
    }

    /** Runs status when {@code args} is a plain status command line; empty when picocli must read it. */
    static OptionalInt run(String... args) {
        Optional<Request> request = parse(args);
        if (request.isEmpty()) {
            return OptionalInt.empty();
        }
        GlobalOptions global = new GlobalOptions();
        global.config = request.get().config();
        global.verbose = request.get().verbose();
        OutputOptions output = new OutputOptions();
        output.format = request.get().json() ? OutputOptions.Format.json : OutputOptions.Format.text;
        try {
            StatusCommand.print(stdout(), global, output);
        } catch (RuntimeException e) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(0);
    }

    /** The plain status command line in {@code args}, or empty for anything else. */
    static Optional<Request> parse(String... args) {
        boolean status = false;
        String config = null;
        boolean verbose = false;
        String format = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("status") && !status) {
                status = true;
            } else if ((a.equals("-v") || a.equals("--verbose")) && !verbose) {
                verbose = true;
            } else if (a.equals("--config") && config == null && i + 1 < args.length && isValue(args[i + 1])) {
                config = args[++i];
            } else if (a.startsWith("--config=") && config == null) {
                config = a.substring("--config=".length());
            } else if ((a.equals("-o") || a.equals("--output")) && status && format == null && i + 1 < args.length) {
                format = args[++i];
            } else if (a.startsWith("--output=") && status && format == null) {
                format = a.substring("--output=".length());
            } else {
                return Optional.empty();
            }
        }
        if (!status || (format != null && !format.equals("text") && !format.equals("json"))) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Request(config == null ? null : Path.of(config), verbose, "json".equals(format)));
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }

    /** A value picocli would take for an option, not an option of its own. */
    private static boolean isValue(String arg) {
        return !arg.startsWith("-");
    }

    /** The writer picocli prints command output to, with the same encoding (CommandLine.getOut). */
    private static PrintWriter stdout() {
        String name = System.getProperty("sun.stdout.encoding");
        Charset charset = Charset.defaultCharset();
        if (name != null) {
            try {
                charset = Charset.forName(name.equalsIgnoreCase("cp65001") ? "UTF-8" : name);
            } catch (IllegalArgumentException e) {
                // picocli falls back to the default charset too
            }
        }
        return new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, charset)), true);
    }

    private StatusShortcut() {
    }
}
