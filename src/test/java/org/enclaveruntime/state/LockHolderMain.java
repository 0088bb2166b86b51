package org.enclaveruntime.state;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * A second process for the lock tests: takes the lock in the run directory given as argument, records
 * itself as RUNNING, prints LOCKED and waits to be killed; or prints REFUSED and exits 4 if the lock is taken.
 */
public final class LockHolderMain {
    public static void main(String[] args) throws InterruptedException {
        RunDirectory dir = new RunDirectory(Path.of(args[0]));
        var lock = EnclaveLock.tryAcquire(dir);
        if (lock.isEmpty()) {
            System.out.println("REFUSED " + EnclaveLock.holder(dir.lockFile()).orElse(-1));
            System.exit(4);
        }
        long pid = ProcessHandle.current().pid();
        new StateFile(dir).write(new StateRecord(EnclaveState.RUNNING, pid, 16L, List.of(1), 128L, "4K",
                "/tmp/image.bin", null, null, null, Instant.now().toString(), null, List.of()));
        System.out.println("LOCKED " + pid);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
