package org.enclaveruntime.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Benchmark (not a test) of what users wait for: `java -version`, `enclavectl status` (text and JSON), and
 * `enclavectl start` to READY and `stop` of a 1-vCPU, 128 MiB enclave, each through the real launcher
 * (packaging/enclavectl) in fresh processes, plus the VMM process's resident memory without guest RAM.
 *
 * <p>Run from the project directory after `mvn package` (needs root and /dev/kvm for start/stop):
 * {@code java -cp target/enclavectl.jar:target/test-classes org.enclaveruntime.cli.StartupBench [RUNS]}.
 * It prints the median, min and max of RUNS runs (default 10) after one warm-up run each, so the page
 * cache holds the JDK and the jar. Run it when nothing else loads the machine (check `uptime`).
 */
public final class StartupBench {
    private static final Pattern PID = Pattern.compile("\"pid\"\\s*:\\s*(\\d+)");
    private static final Pattern MAPPING = Pattern.compile("[0-9a-f]+-[0-9a-f]+ ");

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path project = Path.of("").toAbsolutePath();
        Path launcher = project.resolve("packaging/enclavectl");
        Path image = project.resolve("target/image.bin");
        Path dir = Files.createTempDirectory("startup-bench");
        Path config = Files.write(dir.resolve("enclave.conf"), List.of(
                "[enclave]", "image = " + image, "cpu_count = 1", "memory = 128M", "boot_timeout = 20s",
                "[vsock]", "socket = " + dir.resolve("vsock.sock"), "[runtime]", "run_dir = " + dir.resolve("run"), "log_dir = " + dir.resolve("log"),
                "hugepages = off"));
        String cfg = "--config=" + config;
        System.out.printf(Locale.ROOT, "load average before: %s%n", loadAverage());

        report("java -version", time(runs, () -> run(List.of(javaBin(), "-version"))));
        report("enclavectl --version", time(runs, () -> run(List.of(launcher.toString(), "--version"))));
        report("enclavectl status", time(runs, () -> run(List.of(launcher.toString(), "status", cfg))));
        report("enclavectl status --output json",
                time(runs, () -> run(List.of(launcher.toString(), "status", "-o", "json", cfg))));

        if (!Files.exists(Path.of("/dev/kvm")) || !Files.exists(image)) {
            System.out.println("no /dev/kvm or no target/image.bin: start/stop not measured");
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

    /** Runs {@code runs + 1} times, drops the first (warm-up) and returns the times in nanoseconds. */
    private static long[] time(int runs, LongSupplier once) {
        long[] t = new long[runs + 1];
        for (int i = 0; i <= runs; i++) {
            t[i] = once.getAsLong();
        }
        return drop(t);
    }

    private static long[] drop(long[] values) {
        return Arrays.copyOfRange(values, 1, values.length);
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

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String loadAverage() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).trim();
    }

    private static void report(String what, long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        System.out.printf(Locale.ROOT, "%-34s median %6.1f ms   min %6.1f   max %6.1f   (n=%d)%n", what,
                median(s) / 1e6, s[0] / 1e6, s[s.length - 1] / 1e6, s.length);
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
