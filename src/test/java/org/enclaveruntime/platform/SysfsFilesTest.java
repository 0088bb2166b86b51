package org.enclaveruntime.platform;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SysfsFilesTest {
    /**
     * /proc/sys files read as size 0 and return nothing past offset 0; a reader that starts with one byte
     * gets only the first digit. pid_max always has several digits, so it shows the difference.
     */
    @Test
    void multiDigitSysctlIsReadWhole() throws Exception {
        Path pidMax = Path.of("/proc/sys/kernel/pid_max");
        String viaCat = new String(new ProcessBuilder("cat", pidMax.toString()).start().getInputStream().readAllBytes()).strip();
        assertTrue(viaCat.length() > 1, "pid_max should have several digits: " + viaCat);
        assertEquals(viaCat, SysfsFiles.readWhole(pidMax));
        assertEquals(Long.parseLong(viaCat), new SysfsFiles(Path.of("/")).readLong("/proc/sys/kernel/pid_max",
                PlatformErrors.HUGEPAGE_CONTROL));
    }
}
