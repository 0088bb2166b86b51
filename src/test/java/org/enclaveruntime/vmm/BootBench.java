package org.enclaveruntime.vmm;

import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.memory.MemoryBacking;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * Boot benchmark (not a test): prints, for the enclave runtime with 1 vCPU and 128 MiB,
 * the JNR load and first-call cost, the cold boot (JVM start to READY and boot() to READY), the median of
 * 10 more boots in the same JVM, the shutdown time, the VMM's resident memory without guest RAM, and the
 * cost of one port exit dispatched through the Java VMM.
 *
 * <pre>java -cp target/enclavectl.jar:target/test-classes org.enclaveruntime.vmm.BootBench [runtime.elf]</pre>
 */
public final class BootBench {
    private static final long RAM = 128L << 20;
    private static final int BOOTS = 10;
    private static final int EXITS = 20_000;

    private BootBench() {
    }

    public static void main(String[] args) throws IOException {
        long mainEntered = System.nanoTime();
        long t0 = System.nanoTime();
        LibC libc = LibC.INSTANCE;
        long loaded = System.nanoTime();
        libc.getpid();
        long firstCall = System.nanoTime();
        libc.getpid();
        long secondCall = System.nanoTime();

        Path elfPath = Path.of(args.length > 0 ? args[0] : "target/guest/runtime.elf");
        byte[] elf = Files.readAllBytes(elfPath);
        VmSpec spec = new VmSpec(1, RAM, elf, false, null, 3, List.of(), MemoryBacking.ORDINARY);

        long bootCall = System.nanoTime();
        Enclave first = VmBuilder.boot(spec);
        ReadyResult r = first.awaitReady(Duration.ofSeconds(10));
        long readyAt = System.nanoTime();
        long uptimeMs = ManagementFactory.getRuntimeMXBean().getUptime();
        double jvmToReadyMs = uptimeMs - (System.nanoTime() - readyAt) / 1e6;
        if (!(r instanceof ReadyResult.Ready)) {
            System.out.println("first boot did not become ready: " + r);
            first.close();
            return;
        }
        first.shutdown(Duration.ofSeconds(5));
        first.close();

        List<Double> boots = new ArrayList<>();
        List<Double> stops = new ArrayList<>();
        long rss = 0;
        long guestResident = 0;
        long rssShmem = 0;
        for (int i = 0; i < BOOTS; i++) {
            long start = System.nanoTime();
            Enclave e = VmBuilder.boot(spec);
            ReadyResult ready = e.awaitReady(Duration.ofSeconds(10));
            boots.add((System.nanoTime() - start) / 1e6);
            if (!(ready instanceof ReadyResult.Ready)) {
                System.out.println("boot " + i + " did not become ready: " + ready);
            }
            if (i == BOOTS - 1) {
                rss = statusKb("VmRSS") * 1024;
                rssShmem = statusKb("RssShmem") * 1024;
                guestResident = e.guestResidentBytes();
            }
            long stop = System.nanoTime();
            e.shutdown(Duration.ofSeconds(5));
            e.close();
            stops.add((System.nanoTime() - stop) / 1e6);
        }
        Collections.sort(boots);
        Collections.sort(stops);

        System.out.printf("JNR: LibC load %.1f ms, first call %.3f ms, next call %.1f us (main entered at JVM uptime"
                        + " %d ms)%n", (loaded - t0) / 1e6, (firstCall - loaded) / 1e6, (secondCall - firstCall) / 1e3,
                ManagementFactory.getRuntimeMXBean().getUptime() - (System.nanoTime() - mainEntered) / 1_000_000);
        System.out.printf("cold boot (1 vCPU, 128 MiB): JVM start -> READY %.1f ms; boot() -> READY %.1f ms%n",
                jvmToReadyMs, (readyAt - bootCall) / 1e6);
        System.out.printf("warm boot() -> READY: median %.2f ms, min %.2f, max %.2f (%d boots)%n",
                median(boots), boots.get(0), boots.get(boots.size() - 1), BOOTS);
        System.out.printf("shutdown (request + SHUTDOWN + scrub + free): median %.2f ms%n", median(stops));
        System.out.printf("RSS with an enclave running: %.1f MiB; guest RAM resident %.1f MiB (RssShmem %.1f MiB);"
                        + " VMM without guest RAM %.1f MiB%n", rss / 1048576.0, guestResident / 1048576.0,
                rssShmem / 1048576.0, (rss - guestResident) / 1048576.0);
        exitCost();
    }

    /**
     * A guest that writes COM1's scratch register {@value #EXITS} times (one port exit each, no allocation in
     * the VMM), then REPORTs 42 and spins.
     */
    private static void exitCost() {
        String code = "ba00050000b801000000ef"                       // READY
                + "baff030000"                                     // mov $0x3ff,%edx (COM1 scratch)
                + "b9" + le32(EXITS)                               // mov $EXITS,%ecx
                + "ee" + "ffc9" + "75fb"                           // 1: out %al,(%dx); dec %ecx; jnz 1b
                + "ba05050000" + "b82a000000ef"                    // REPORT 42
                + "ebfe";                                          // spin
        byte[] elf = TestElf.of(HexFormat.of().parseHex(code));
        VmSpec spec = new VmSpec(1, 16L << 20, elf, false, null, 3, List.of(), MemoryBacking.ORDINARY);
        try (Enclave e = VmBuilder.boot(spec)) {
            e.awaitReady(Duration.ofSeconds(10));
            long start = System.nanoTime();
            Thread vcpu = e.vcpuThreads().get(0);
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long allocatedBefore = threads.getThreadAllocatedBytes(vcpu.getId());
            while (e.reports().isEmpty()) {
                Thread.onSpinWait();
            }
            long ns = System.nanoTime() - start;
            long allocated = threads.getThreadAllocatedBytes(vcpu.getId()) - allocatedBefore;
            System.out.printf("port exit through the Java VMM: %.2f us each (%d exits); vCPU thread allocated %d"
                    + " bytes in total (REPORT included)%n", ns / 1e3 / EXITS, EXITS, allocated);
            e.shutdown(Duration.ofMillis(50));
        }
    }

    private static String le32(int v) {
        return String.format("%02x%02x%02x%02x", v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff);
    }

    private static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static long statusKb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** A one-segment ELF at 1 MiB around raw code, for the exit-cost guest. */
    static final class TestElf {
        private TestElf() {
        }

        static byte[] of(byte[] code) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(120 + code.length)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0}).position(16);
            b.putShort((short) 2).putShort((short) 62).putInt(1).putLong(GuestLayout.IMAGE_GPA).putLong(64).putLong(0);
            b.putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) 1).putShort((short) 64);
            b.putShort((short) 0).putShort((short) 0);
            b.putInt(1).putInt(5).putLong(120).putLong(GuestLayout.IMAGE_GPA).putLong(GuestLayout.IMAGE_GPA);
            b.putLong(code.length).putLong(code.length).putLong(0x1000);
            b.put(code);
            return b.array();
        }
    }
}
