package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
        boolean v1Cpuset = mounts.lines().anyMatch(l -> l.split(" ")[2].equals("cgroup")
                && List.of(l.split(" ")[3].split(",")).contains("cpuset"));
        assertEquals(v2 || v1Cpuset, s.available(), s.reason());
        if (!s.available()) {
            EnclaveException e = assertThrows(EnclaveException.class,
                    () -> Isolation.check(IsolationMode.CPUSET, Path.of("/")));
            assertSame(PlatformErrors.ISOLATION_UNSUPPORTED, e.code());
            assertTrue(e.getMessage().contains(s.reason()), e.getMessage());
        }
    }

    @Test
    void hybridHierarchyUsesTheV1Cpuset() throws IOException {
        write("proc/self/mounts", "cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0\n"
                + "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n");
        write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
        CpusetSupport s = CpusetSupport.detect(dir);
        assertEquals(CgroupVersion.V1, s.version());
        assertEquals("/sys/fs/cgroup/cpuset", s.mount());
        assertTrue(s.reason().contains("'hugetlb'"), s.reason());
        assertDoesNotThrow(() -> Isolation.check(IsolationMode.CPUSET, dir));
    }

    @Test
    void unifiedHierarchyWithCpusetIsPreferred() throws IOException {
        write("proc/self/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n"
                + "cgroup /sys/fs/cgroup/legacy-cpuset cgroup rw,cpuset 0 0\n");
        write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        CpusetSupport s = CpusetSupport.detect(dir);
        assertEquals(CgroupVersion.V2, s.version(), s.reason());
        assertEquals("/sys/fs/cgroup", s.mount());
        assertDoesNotThrow(() -> Isolation.check(IsolationMode.CPUSET, dir));
    }

    @Test
    void noCpusetAnywhereIsRefused() throws IOException {
        write("proc/self/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n");
        write("sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n");
        CpusetSupport s = CpusetSupport.detect(dir);
        assertFalse(s.available());
        EnclaveException e = assertThrows(EnclaveException.class, () -> Isolation.check(IsolationMode.CPUSET, dir));
        assertSame(PlatformErrors.ISOLATION_UNSUPPORTED, e.code());
        assertTrue(e.getMessage().contains("'cpu io memory pids' but not cpuset"), e.getMessage());
    }

    @Test
    void noCgroupsAtAll() throws IOException {
        write("proc/self/mounts", "proc /proc proc rw 0 0\n");
        assertTrue(CpusetSupport.detect(dir).reason().contains("no cgroup hierarchy offers cpuset"));
    }

    private void write(String relative, String text) throws IOException {
        Path f = dir.resolve(relative);
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
    }
}
