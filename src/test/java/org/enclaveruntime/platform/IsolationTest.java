package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IsolationTest {
    @TempDir
    Path dir;

    @Test
    void noneAlwaysWorks() {
        assertDoesNotThrow(() -> Isolation.check(IsolationMode.NONE, Path.of("/")));
    }

    @Test
    void detectsThisMachineFromItsMounts() throws IOException {
        CpusetSupport s = CpusetSupport.detect();
        String mounts = Files.readString(Path.of("/proc/self/mounts"));
        boolean v2 = mounts.lines().anyMatch(l -> l.split(" ")[2].equals("cgroup2"));
        assertEquals(v2, s.cgroup2Mount() != null, s.reason());
        if (!s.available()) {
            EnclaveException e = assertThrows(EnclaveException.class,
                    () -> Isolation.check(IsolationMode.CPUSET, Path.of("/")));
            assertSame(PlatformErrors.ISOLATION_UNSUPPORTED, e.code());
            assertTrue(e.getMessage().contains(s.reason()), e.getMessage());
        }
    }

    @Test
    void hybridHierarchyNamesWhereCpusetIs() throws IOException {
        write("proc/self/mounts", "cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0\n"
                + "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n");
        write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
        CpusetSupport s = CpusetSupport.detect(dir);
        assertFalse(s.available());
        assertTrue(s.reason().contains("'hugetlb'"), s.reason());
        assertTrue(s.reason().contains("v1 hierarchy at /sys/fs/cgroup/cpuset"), s.reason());
    }

    @Test
    void unifiedHierarchyWithCpusetIsDetected() throws IOException {
        write("proc/self/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n");
        write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        CpusetSupport s = CpusetSupport.detect(dir);
        assertTrue(s.available(), s.reason());
        EnclaveException e = assertThrows(EnclaveException.class, () -> Isolation.check(IsolationMode.CPUSET, dir));
        assertTrue(e.getMessage().contains("not implemented"), e.getMessage());
    }

    @Test
    void noCgroupV2() throws IOException {
        write("proc/self/mounts", "proc /proc proc rw 0 0\n");
        assertTrue(CpusetSupport.detect(dir).reason().contains("no cgroup v2"));
    }

    private void write(String relative, String text) throws IOException {
        Path f = dir.resolve(relative);
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
    }
}
