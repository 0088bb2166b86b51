package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
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
    /** PF_KTHREAD in /proc/TID/stat's flags. */
    long PF_KTHREAD = 0x00200000;
    Logger LOG = LoggerFactory.getLogger(CgroupFs.class);

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

    /** User threads whose affinity mask is narrower than {@code online}, with their start times. */
    List<CpusetChange.Pinned> pinnedThreads(CpuList online);

    /** Pins the thread again if it is still the one noted and its mask differs; a thread gone is skipped. */
    void repin(CpusetChange.Pinned pinned);

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

            @Override
            public List<CpusetChange.Pinned> pinnedThreads(CpuList online) {
                List<CpusetChange.Pinned> pinned = new ArrayList<>();
                try (DirectoryStream<Path> procs = Files.newDirectoryStream(file("/proc"), p -> p.getFileName()
                        .toString().chars().allMatch(Character::isDigit))) {
                    for (Path proc : procs) {
                        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve("task"))) {
                            for (Path task : tasks) {
                                notePinned(task, online, pinned);
                            }
                        } catch (IOException gone) {
                            // the process ended while we looked
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return pinned;
            }

            private void notePinned(Path task, CpuList online, List<CpusetChange.Pinned> pinned) {
                try {
                    String[] stat = stat(task);
                    long flags = Long.parseLong(stat[6]);
                    if ((flags & PF_KTHREAD) != 0) {
                        return; // kernel threads keep their own masks; nobody can set them
                    }
                    CpuList mask = allowed(task);
                    if (!mask.containsAll(online)) {
                        pinned.add(new CpusetChange.Pinned(Integer.parseInt(task.getFileName().toString()),
                                Long.parseLong(stat[19]), mask.format()));
                    }
                } catch (IOException | RuntimeException gone) {
                    // the thread ended while we looked
                }
            }

            @Override
            public void repin(CpusetChange.Pinned p) {
                Path task = file("/proc/" + p.tid() + "/task/" + p.tid());
                try {
                    if (Long.parseLong(stat(task)[19]) != p.startTime() || allowed(task).format().equals(p.cpus())) {
                        return;
                    }
                } catch (IOException gone) {
                    return;
                }
                try {
                    CpuAffinity.pin(p.tid(), CpuList.parse(p.cpus()));
                } catch (EnclaveException e) {
                    LOG.warn("thread {} was pinned to CPU{} before isolate = cpuset and could not be again: {}",
                            p.tid(), p.cpus(), e.getMessage());
                }
            }

            /** The fields of /proc/TID/stat after the command name, which may hold spaces: [0] is field 3. */
            private String[] stat(Path task) throws IOException {
                String text = Files.readString(task.resolve("stat"));
                return text.substring(text.lastIndexOf(')') + 2).split(" ");
            }

            private CpuList allowed(Path task) throws IOException {
                for (String line : Files.readAllLines(task.resolve("status"))) {
                    if (line.startsWith("Cpus_allowed_list:")) {
                        return CpuList.parse(line.substring("Cpus_allowed_list:".length()).strip());
                    }
                }
                throw new IOException("no Cpus_allowed_list in " + task + "/status");
            }
        };
    }
}
