package org.enclaveruntime.platform;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The cgroup files {@link CpusetIsolation} reads and writes, by their kernel paths ("/sys/fs/cgroup/...").
 * An interface because the interesting cases (other cpusets, kernel threads, a partition the kernel refuses,
 * a v2 machine on a v1 host) cannot be produced on a shared test machine: tests put a simulated kernel here.
 * Failures are IOExceptions whose message is the kernel's errno text ("Invalid argument", "No such process").
 */
interface CgroupFs {
    boolean exists(String path);

    String read(String file) throws IOException;

    /** One write(2) of {@code value}, as the kernel's control files expect. */
    void write(String file, String value) throws IOException;

    void mkdir(String dir) throws IOException;

    void rmdir(String dir) throws IOException;

    /** Paths of the child cgroups of {@code dir}. */
    List<String> children(String dir) throws IOException;

    /**
     * The cgroup of thread {@code tid} in the cpuset hierarchy, as /proc/TID/cgroup gives it ("/" or
     * "/docker/abc"), or null if the thread is gone.
     */
    String cgroupOf(int tid, CgroupVersion version);

    /** The file for messages. */
    String describe(String path);

    /** The real files below {@code root} ("/" in production). */
    static CgroupFs at(Path root) {
        return new CgroupFs() {
            private Path file(String path) {
                return root.resolve(path.substring(1));
            }

            @Override
            public boolean exists(String path) {
                return Files.exists(file(path));
            }

            @Override
            public String read(String path) throws IOException {
                try (InputStream in = Files.newInputStream(file(path))) {
                    return new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
                }
            }

            @Override
            public void write(String path, String value) throws IOException {
                Files.write(file(path), value.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
            }

            @Override
            public void mkdir(String dir) throws IOException {
                Files.createDirectory(file(dir));
            }

            @Override
            public void rmdir(String dir) throws IOException {
                Files.delete(file(dir));
            }

            @Override
            public List<String> children(String dir) throws IOException {
                List<String> children = new ArrayList<>();
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(file(dir), Files::isDirectory)) {
                    for (Path p : entries) {
                        children.add(dir + "/" + p.getFileName());
                    }
                }
                children.sort(null);
                return children;
            }

            @Override
            public String cgroupOf(int tid, CgroupVersion version) {
                String text;
                try {
                    text = read("/proc/" + tid + "/cgroup");
                } catch (IOException gone) {
                    return null;
                }
                for (String line : text.split("\n")) {
                    String[] f = line.split(":", 3);
                    if (f.length == 3 && (version == CgroupVersion.V2 ? f[0].equals("0") && f[1].isEmpty()
                            : List.of(f[1].split(",")).contains("cpuset"))) {
                        return f[2];
                    }
                }
                return null;
            }

            @Override
            public String describe(String path) {
                return file(path).toString();
            }
        };
    }
}
