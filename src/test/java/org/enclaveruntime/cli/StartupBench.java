package org.enclaveruntime.cli;

import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Benchmark (not a test) of what users wait for: `java -version`, `enclavectl --version`, `enclavectl status`
 * (text and JSON, with no enclave and with a RUNNING one faked by this process), and `enclavectl start` to
 * READY and `stop` of a 1-vCPU, 128 MiB enclave, each through the real launcher (packaging/enclavectl) in fresh
 * processes, plus the VMM process's resident memory without guest RAM.
 *
 * <p>Run from the project directory after `mvn package` (needs root and /dev/kvm for start/stop):
 * {@code java -cp target/enclavectl.jar:target/test-classes org.enclaveruntime.cli.StartupBench [RUNS]
 * [--jdk JAVA_HOME]... [--jar NAME=JAR]...}. The start-up commands are measured side by side: each round runs
 * every one of them once, on every JDK (default: this one and every JDK 25 or newer in /usr/lib/jvm) and
 * every jar (default: target/enclavectl.jar; another jar brings its own class-data archive next to it, which is
 * how a lever is compared with the build before it), so a change in the machine's load hits them all alike.
 * It prints the median, min and max of RUNS rounds (default 10) after one warm-up round, and each median
 * against `java -version`'s on the same JDK. Run it when nothing else loads the machine (check `uptime`).
 */
public final class StartupBench {
    private static final Pattern PID = Pattern.compile("\"pid\"\\s*:\\s*(\\d+)");
    private static final Pattern MAPPING = Pattern.compile("[0-9a-f]+-[0-9a-f]+ ");

    /** One command line to time, and a word its output must contain (so a fake that stopped working shows). */
    private record Probe(String name, Path javaHome, Path jar, List<String> command, String expect) {
    }

    public static void main(String[] args) throws Exception {
        int runs = 10;
        List<Path> jdks = new ArrayList<>();
        Map<String, Path> jars = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--jdk")) {
                jdks.add(Path.of(args[++i]));
            } else if (args[i].equals("--jar")) {
                String[] kv = args[++i].split("=", 2);
                jars.put(kv[0], Path.of(kv[1]).toAbsolutePath());
            } else {
                runs = Integer.parseInt(args[i]);
            }
        }
        Path project = Path.of("").toAbsolutePath();
        if (jdks.isEmpty()) {
            jdks.add(Path.of(System.getProperty("java.home")));
            jdks.addAll(newerJdks(Runtime.version().feature()));
        }
        if (jars.isEmpty()) {
            jars.put("", project.resolve("target/enclavectl.jar"));
        }
        Path launcher = project.resolve("packaging/enclavectl");
        Path image = project.resolve("target/image.bin");
        Path dir = Files.createTempDirectory("startup-bench");
        String cfg = "--config=" + config(dir.resolve("stopped"), image);
        Path running = dir.resolve("running");
        String runningCfg = "--config=" + config(running, image);

        System.out.printf(Locale.ROOT, "load average before: %s%n", loadAverage());
        try (EnclaveLock lock = fakeRunning(new RunDirectory(running.resolve("run")), image)) {
            List<Probe> probes = new ArrayList<>();
            for (Path jdk : jdks) {
                String v = "JDK " + majorVersion(jdk);
                probes.add(new Probe(v + " java -version", jdk, null, List.of(jdk.resolve("bin/java").toString(), "-version"),
                        ""));
                jars.forEach((name, jar) -> {
                    String p = v + (name.isEmpty() ? "" : " [" + name + "]") + " enclavectl ";
                    String l = launcher.toString();
                    probes.add(new Probe(p + "--version", jdk, jar, List.of(l, "--version"), "enclavectl"));
                    probes.add(new Probe(p + "status", jdk, jar, List.of(l, "status", cfg), "STOPPED"));
                    probes.add(new Probe(p + "status -o json", jdk, jar, List.of(l, "status", "-o", "json", cfg), "STOPPED"));
                    probes.add(new Probe(p + "status (RUNNING)", jdk, jar, List.of(l, "status", runningCfg), "RUNNING"));
                    probes.add(new Probe(p + "status -o json (RUNNING)", jdk, jar,
                            List.of(l, "status", "-o", "json", runningCfg), "RUNNING"));
                });
            }
            long[][] times = new long[probes.size()][runs + 1];
            long[][] cpu = new long[probes.size()][runs + 1];
            for (int round = 0; round <= runs; round++) {
                for (int i = 0; i < probes.size(); i++) {
                    long before = childrenCpuNanos();
                    times[i][round] = probe(probes.get(i));
                    cpu[i][round] = childrenCpuNanos() - before;
                }
            }
            double base = 0;
            double cpuBase = 0;
            for (int i = 0; i < probes.size(); i++) {
                long[] t = drop(times[i]);
                long[] c = drop(cpu[i]);
                if (probes.get(i).name().endsWith("java -version")) {
                    base = median(sorted(t));
                    cpuBase = median(sorted(c));
                }
                report(probes.get(i).name(), t, base);
                report("  CPU time (user+sys)", c, cpuBase);
            }
        }

        if (!Files.exists(Path.of("/dev/kvm")) || !Files.exists(image)) {
            System.out.println("no /dev/kvm or no target/image.bin: start/stop not measured");
            System.out.printf(Locale.ROOT, "load average after: %s%n", loadAverage());
            return;
        }
        long[] start = new long[runs + 1];
        long[] stop = new long[runs + 1];
        long[] rss = new long[runs + 1];
        long[] guest = new long[runs + 1];
        for (int i = 0; i <= runs; i++) {
            start[i] = run(List.of(launcher.toString(), "start", cfg));
            String json = output(List.of(launcher.toString(), "status", "-o", "json", cfg));
            Matcher m = PID.matcher(json);
            if (!m.find()) {
                throw new IllegalStateException("no pid in status after start: " + json);
            }
            long pid = Long.parseLong(m.group(1));
            long[] memory = residentMemory(pid);
            rss[i] = memory[0];
            guest[i] = memory[1];
            stop[i] = run(List.of(launcher.toString(), "stop", cfg));
        }
        report("enclavectl start (to READY)", drop(start));
        report("enclavectl stop", drop(stop));
        reportMiB("VMM VmRSS", drop(rss));
        reportMiB("VMM guest RAM resident", drop(guest));
        long[] without = new long[runs + 1];
        for (int i = 0; i <= runs; i++) {
            without[i] = rss[i] - guest[i];
        }
        reportMiB("VMM RSS without guest RAM", drop(without));
        System.out.printf(Locale.ROOT, "load average after: %s%n", loadAverage());
    }

    private static long[] drop(long[] values) {
        return Arrays.copyOfRange(values, 1, values.length);
    }

    /** Wall time of one probe in nanoseconds; fails if it does not exit 0 or its output lacks the word. */
    private static long probe(Probe probe) {
        try {
            Path out = Files.createTempFile("startup-bench", ".out");
            ProcessBuilder pb = new ProcessBuilder(probe.command()).redirectOutput(out.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("JAVA_HOME", probe.javaHome().toString());
            if (probe.jar() != null) {
                pb.environment().put("ENCLAVECTL_JAR", probe.jar().toString());
            }
            long t0 = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + probe.command());
            }
            long t = System.nanoTime() - t0;
            String text = Files.readString(out);
            Files.delete(out);
            if (p.exitValue() != 0 || !text.contains(probe.expect())) {
                throw new IllegalStateException("exit status " + p.exitValue() + ", output without \""
                        + probe.expect() + "\": " + probe.command() + ": " + text);
            }
            return t;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * User and system time of this process's waited-for children (/proc/self/stat, in clock ticks of 10 ms):
     * on a machine others load, CPU time varies far less than wall time, which includes waiting for a core.
     */
    private static long childrenCpuNanos() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // After the command name: state is field 3; cutime and cstime are fields 16 and 17.
            long ticks = Long.parseLong(f[16 - 3]) + Long.parseLong(f[17 - 3]);
            return ticks * 10_000_000L;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The benchmark's configuration with run_dir and log_dir under {@code dir}; returns its path. */
    private static Path config(Path dir, Path image) throws IOException {
        Files.createDirectories(dir);
        return Files.write(dir.resolve("enclave.conf"), List.of(
                "[enclave]", "image = " + image, "cpu_count = 1", "memory = 128M", "boot_timeout = 20s",
                "[vsock]", "socket = " + dir.resolve("vsock.sock"),
                "[runtime]", "run_dir = " + dir.resolve("run"), "log_dir = " + dir.resolve("log"), "hugepages = off"));
    }

    /**
     * What `status` sees while an enclave runs, without KVM: this process holds the lock and has written a
     * RUNNING state naming itself as the VMM, so status reads and renders a full record.
     */
    private static EnclaveLock fakeRunning(RunDirectory run, Path image) {
        EnclaveLock lock = EnclaveLock.acquire(run);
        new StateFile(run).write(new StateRecord(EnclaveState.RUNNING, ProcessHandle.current().pid(), 16L,
                List.of(1), 128L, "4k", image.toString(), Map.of("pcr0", "0".repeat(96)),
                run.path().resolve("vsock.sock").toString(), run.path().resolve("console.log").toString(),
                Instant.now().toString(), null, List.of()));
        return lock;
    }

    /** The JDKs in /usr/lib/jvm newer than {@code feature}, one per version (the `release` file says which). */
    private static List<Path> newerJdks(int feature) throws IOException {
        Map<Integer, Path> found = new TreeMap<>();
        Path jvm = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvm)) {
            try (Stream<Path> homes = Files.list(jvm)) {
                for (Path home : homes.sorted().toList()) {
                    int major = majorVersion(home);
                    if (major > feature && Files.isExecutable(home.resolve("bin/java"))) {
                        found.putIfAbsent(major, home.toRealPath());
                    }
                }
            }
        }
        return new ArrayList<>(found.values());
    }

    /** The feature version in {@code home}/release (JAVA_VERSION="25.0.1"), or 0 when there is none. */
    private static int majorVersion(Path home) throws IOException {
        Path release = home.resolve("release");
        if (!Files.isRegularFile(release)) {
            return 0;
        }
        for (String line : Files.readAllLines(release)) {
            if (line.startsWith("JAVA_VERSION=")) {
                String v = line.substring(line.indexOf('"') + 1).replaceFirst("^1\\.", "");
                Matcher m = Pattern.compile("^\\d+").matcher(v);
                return m.find() ? Integer.parseInt(m.group()) : 0;
            }
        }
        return 0;
    }

    /** Wall time of one command, in nanoseconds; fails if it does not exit 0. */
    private static long run(List<String> command) {
        try {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            long t = System.nanoTime() - t0;
            if (p.exitValue() != 0) {
                throw new IllegalStateException("exit status " + p.exitValue() + ": " + command);
            }
            return t;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String output(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    /**
     * VmRSS of the process and the resident part of its guest RAM mapping (the memfd "enclave-ram"), in
     * bytes, both from /proc: the VMM's own footprint is the difference.
     */
    static long[] residentMemory(long pid) throws IOException {
        long vmRss = 0;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                vmRss = kib(line);
            }
        }
        long guest = 0;
        boolean inGuest = false;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps"))) {
            if (MAPPING.matcher(line).lookingAt()) {
                inGuest = line.contains("memfd:enclave-ram");
            } else if (inGuest && line.startsWith("Rss:")) {
                guest += kib(line);
            }
        }
        return new long[] {vmRss, guest};
    }

    private static long kib(String line) {
        String[] f = line.trim().split("\\s+");
        return Long.parseLong(f[1]) * 1024;
    }

    private static String loadAverage() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).trim();
    }

    private static void report(String what, long[] nanos) {
        report(what, nanos, 0);
    }

    /** Median, min and max in ms, and the median against {@code base} (java -version's median) when given. */
    private static void report(String what, long[] nanos, double base) {
        long[] s = sorted(nanos);
        double median = median(s);
        System.out.printf(Locale.ROOT, "%-56s median %6.1f ms   min %6.1f   max %6.1f   (n=%d)%s%n", what,
                median / 1e6, s[0] / 1e6, s[s.length - 1] / 1e6, s.length,
                base > 0 ? String.format(Locale.ROOT, "   %.2f× java -version", median / base) : "");
    }

    private static long[] sorted(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s;
    }

    private static void reportMiB(String what, long[] bytes) {
        long[] s = bytes.clone();
        Arrays.sort(s);
        System.out.printf(Locale.ROOT, "%-34s median %6.1f MiB  min %6.1f   max %6.1f   (n=%d)%n", what,
                median(s) / 1048576.0, s[0] / 1048576.0, s[s.length - 1] / 1048576.0, s.length);
    }

    private static double median(long[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    }

    private StartupBench() {
    }
}
