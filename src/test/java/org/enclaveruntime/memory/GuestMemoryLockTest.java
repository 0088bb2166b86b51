package org.enclaveruntime.memory;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guest RAM that cannot be locked is refused (E412), and nothing of it stays mapped or open. The refusal is
 * provoked for real: a child JVM without CAP_IPC_LOCK (setpriv drops it, root or not) and with a 1 MiB
 * RLIMIT_MEMLOCK (prlimit) asks for 64 MiB.
 */
class GuestMemoryLockTest {

    /** Without CAP_IPC_LOCK, with a 1 MiB RLIMIT_MEMLOCK (lowering a limit needs no privilege). */
    private static final List<String> LIMITED = List.of("setpriv", "--inh-caps=-ipc_lock",
            "--bounding-set=-ipc_lock", "prlimit", "--memlock=1048576:1048576");

    private static String runChild(long bytes) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(LIMITED);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                GuestMemoryLockMain.class.getName(), Long.toString(bytes)));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), out);
        return out;
    }

    @Test
    void ramThatCannotBeLockedIsRefusedAndLeavesNothingMappedOrOpen() throws Exception {
        String out = runChild(64L << 20);
        assertTrue(out.startsWith("mappings=0 fds=0 E412 cannot lock the 64 MiB of guest RAM"), out);
        assertTrue(out.contains("1048576 bytes (RLIMIT_MEMLOCK)"), "the message names the limit: " + out);
    }

    /** The control: RAM within the same limit is locked and created, and the counts see it. */
    @Test
    void ramWithinTheLimitIsCreatedAndSeenByTheCounts() throws Exception {
        String out = runChild(512L << 10);
        assertEquals("mappings=1 fds=1 CREATED", out);
    }
}
