package org.enclaveruntime.cli;

import java.io.PrintWriter;
import java.util.function.Consumer;

/**
 * One progress line on stderr for slow steps, rewritten in place on a terminal. Silent when stderr is not a
 * terminal or the output is JSON, so scripts see only the result.
 */
final class Progress implements Consumer<String> {
    private final PrintWriter err;
    private final boolean enabled;
    private int lastLength;

    Progress(PrintWriter err, boolean json) {
        this.err = err;
        this.enabled = !json && System.console() != null;
    }

    @Override
    public synchronized void accept(String step) {
        if (!enabled) {
            return;
        }
        String line = "... " + step;
        err.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        err.flush();
        lastLength = line.length();
    }

    synchronized void done() {
        if (enabled && lastLength > 0) {
            err.print("\r" + " ".repeat(lastLength) + "\r");
            err.flush();
            lastLength = 0;
        }
    }
}
