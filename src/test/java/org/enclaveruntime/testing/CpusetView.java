package org.enclaveruntime.testing;

import org.enclaveruntime.platform.CpuList;
import org.enclaveruntime.platform.CpusetSupport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What the tests of isolate = cpuset look at on a real machine: where tasks may run, and the cpuset tree. */
public final class CpusetView {
    private CpusetView() {
    }

    /** Cpus_allowed_list of a process or thread, from /proc/ID/status (what the scheduler honours). */
    public static CpuList allowed(String procDir) throws IOException {
        for (String line : Files.readAllLines(Path.of(procDir, "status"))) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return CpuList.parse(line.substring("Cpus_allowed_list:".length()).strip());
            }
        }
        throw new IllegalStateException("no Cpus_allowed_list in " + procDir + "/status");
    }

    public static CpuList allowed(long pid) throws IOException {
        return allowed("/proc/" + pid);
    }

    /** Every thread of process {@code pid} and where it may run; threads that end meanwhile are left out. */
    public static Map<Integer, CpuList> threads(long pid) throws IOException {
        Map<Integer, CpuList> all = new TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks) {
                try {
                    all.put(Integer.parseInt(t.getFileName().toString()), allowed(t.toString()));
                } catch (NoSuchFileException gone) {
                    // the thread ended while we looked
                }
            }
        }
        return all;
    }

    /** Name (comm) of a thread. */
    public static String name(long pid, int tid) throws IOException {
        return Files.readString(Path.of("/proc/" + pid + "/task/" + tid + "/comm")).strip();
    }

    /**
     * The cpuset hierarchy's cgroups with their cpuset files (and on v2 the root's subtree_control): equal
     * before and after means every cgroup change was given back. Thread membership is not included: other
     * programs on the machine start and end processes meanwhile.
     */
    public static String tree() throws IOException {
        CpusetSupport s = CpusetSupport.detect();
        StringBuilder out = new StringBuilder(s.mount()).append(": ");
        Path top = Path.of(s.mount());
        out.append(read(top.resolve("cgroup.subtree_control"))).append('\n');
        describe(top, top, out);
        return out.toString();
    }

    private static void describe(Path top, Path dir, StringBuilder out) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path child : entries) {
                out.append(top.relativize(child));
                for (String f : List.of("cpuset.cpus", "cpuset.cpus.partition", "cgroup.type", "cpuset.cpu_exclusive",
                        "cpuset.mems")) {
                    out.append(' ').append(f).append('=').append(read(child.resolve(f)));
                }
                out.append('\n');
                describe(top, child, out);
            }
        }
    }

    private static String read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return "-";
        }
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
        }
    }
}
