package org.enclaveruntime.state;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StateFileTest {
    @TempDir
    Path tmp;

    @Test
    void roundTrip() {
        RunDirectory dir = new RunDirectory(tmp).create();
        StateRecord r = new StateRecord(EnclaveState.RUNNING, 42L, 16L, List.of(1, 3), 256L, "2M", "/img",
                java.util.Map.of("pcr0", "ab"), "/run/enclave/vsock.sock", "/var/log/enclave/console.log",
                "2026-01-01T00:00:00Z", ErrorRecord.of("E305", "gone"),
                List.of(new org.enclaveruntime.platform.HugepageGrant(2 << 20, -1, 128, "boot-1")));
        new StateFile(dir).write(r);
        assertEquals(r, new StateFile(dir).read().orElseThrow());
    }

    @Test
    void writesSurviveSigkillInTheMiddle() throws Exception {
        RunDirectory dir = new RunDirectory(tmp.resolve("run"));
        for (int round = 0; round < 12; round++) {
            try (ChildJvm writer = new ChildJvm(StateWriterMain.class, dir.path().toString())) {
                assertEquals("WRITING", writer.firstLine(30));
                Thread.sleep(ThreadLocalRandom.current().nextInt(0, 60));
                writer.kill();
            }
            StateRecord r = new StateFile(dir).read().orElseThrow();
            String seq = Long.toString(r.pid());
            assertEquals(2000, r.measurements().size());
            r.measurements().values().forEach(v -> assertEquals(seq, v, "torn record"));
        }
    }

    @Test
    void damagedFileIsAClearError() throws Exception {
        RunDirectory dir = new RunDirectory(tmp).create();
        Files.writeString(dir.stateFile(), "{\"state\": \"RUNN");
        EnclaveException e = assertThrows(EnclaveException.class, () -> new StateFile(dir).read());
        assertEquals(StateErrors.STATE_FILE, e.code());
        assertTrue(e.getMessage().contains(dir.stateFile().toString()));
    }
}
