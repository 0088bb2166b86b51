package org.enclaveruntime.state;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EnclaveLockTest {
    @TempDir
    Path tmp;

    @Test
    void secondProcessIsRefusedAndLockIsFreeAfterSigkill() throws Exception {
        RunDirectory dir = new RunDirectory(tmp.resolve("run"));
        try (ChildJvm holder = new ChildJvm(LockHolderMain.class, dir.path().toString())) {
            String first = holder.firstLine(30);
            assertTrue(first.startsWith("LOCKED "), first);
            long holderPid = Long.parseLong(first.substring(7));
            assertEquals(holder.process.pid(), holderPid);

            try (ChildJvm second = new ChildJvm(LockHolderMain.class, dir.path().toString())) {
                assertEquals("REFUSED " + holderPid, second.firstLine(30));
                assertTrue(second.process.waitFor(30, TimeUnit.SECONDS));
                assertEquals(4, second.process.exitValue());
            }
            EnclaveException e = assertThrows(EnclaveException.class, () -> EnclaveLock.acquire(dir));
            assertEquals(StateErrors.ALREADY_RUNNING, e.code());
            assertTrue(e.getMessage().contains(Long.toString(holderPid)), e.getMessage());
            assertEquals(EnclaveState.RUNNING, new StatusReader(dir).read().state());

            holder.kill();
        }
        assertEquals(OptionalLong.empty(), EnclaveLock.holder(dir.lockFile()));
        EnclaveStatus afterKill = new StatusReader(dir).read();
        assertEquals(EnclaveState.CRASHED, afterKill.state());
        assertEquals(StateErrors.VMM_DIED.id(), afterKill.lastError().code());
        try (EnclaveLock lock = EnclaveLock.acquire(dir)) {
            assertEquals(OptionalLong.of(ProcessHandle.current().pid()), EnclaveLock.holder(lock.file()));
            assertEquals(EnclaveState.STARTING, new StatusReader(dir).read().state());
        }
    }

    @Test
    void lockInThisProcessIsNotTakenTwice() {
        RunDirectory dir = new RunDirectory(tmp.resolve("run"));
        try (EnclaveLock lock = EnclaveLock.acquire(dir)) {
            assertTrue(EnclaveLock.tryAcquire(dir).isEmpty());
        }
        EnclaveLock.tryAcquire(dir).orElseThrow().close();
    }

    @Test
    void runDirectoryAndLockFileGetRestrictiveModes() throws Exception {
        RunDirectory dir = new RunDirectory(tmp.resolve("a/b/run"));
        EnclaveLock.acquire(dir).close();
        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.path())));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.lockFile())));
    }

    @Test
    void runDirectoryThatIsAFileIsAClearError() throws Exception {
        Path file = Files.writeString(tmp.resolve("notadir"), "x");
        EnclaveException e = assertThrows(EnclaveException.class,
                () -> EnclaveLock.acquire(new RunDirectory(file)));
        assertEquals(StateErrors.RUN_DIR, e.code());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void permissionDeniedSaysRunAsRootAndOtherFailuresKeepTheirCode() {
        EnclaveException denied = RunDirectory.failure(StateErrors.STATE_FILE, "cannot read /run/enclave/state.json",
                new java.nio.file.AccessDeniedException("/run/enclave/state.json"));
        assertEquals(org.enclaveruntime.errors.GeneralErrors.NOT_ROOT, denied.code());
        assertTrue(denied.remedy().contains("root"), denied.remedy());
        EnclaveException other = RunDirectory.failure(StateErrors.STATE_FILE, "cannot read x",
                new java.io.IOException("Input/output error"));
        assertEquals(StateErrors.STATE_FILE, other.code());
        // The system's reason, not the exception's class ("IO ...") nor the path the JDK tried.
        assertEquals("cannot read x: Input/output error", other.getMessage());
        EnclaveException missing = RunDirectory.failure(StateErrors.STATE_FILE, "cannot read x",
                new java.nio.file.NoSuchFileException("/run/enclave/.state.json.123.tmp"));
        assertEquals("cannot read x: no such file", missing.getMessage());
    }

    @Test
    void holderOfAMissingFileIsEmpty() {
        assertFalse(EnclaveLock.holder(tmp.resolve("none.lock")).isPresent());
    }

    @Test
    void deviceNumbersDecodeLikeGlibc() {
        // makedev(8, 1) and makedev(259, 65536) in glibc's encoding
        assertEquals(8, EnclaveLock.major(0x801L));
        assertEquals(1, EnclaveLock.minor(0x801L));
        long dev = ((259L & 0xfff) << 8) | ((259L & ~0xfffL) << 32) | (65536L & 0xff) | ((65536L & ~0xffL) << 12);
        assertEquals(259, EnclaveLock.major(dev));
        assertEquals(65536, EnclaveLock.minor(dev));
    }
}
