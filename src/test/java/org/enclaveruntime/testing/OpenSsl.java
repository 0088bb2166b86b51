package org.enclaveruntime.testing;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the openssl command line for test keys and certificates: an independent maker of what we parse. */
public final class OpenSsl {
    private OpenSsl() {
    }

    /** Runs {@code openssl args...}; fails with its output when it fails or is still running after {@code bound}. */
    public static void run(Duration bound, Object... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        for (Object a : args) {
            command.add(a.toString());
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }
}
