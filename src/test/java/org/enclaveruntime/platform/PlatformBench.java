package org.enclaveruntime.platform;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Prints how long the platform steps of a start take on this machine: reading the topology and memory, making
 * a plan, reserving and giving back 2M hugepages, pinning a thread. Not a test; run by hand:
 * java -cp target/classes:target/test-classes:$(deps) org.enclaveruntime.platform.PlatformBench [pages]
 * It reserves a few 2M pages and always gives them back.
 */
public final class PlatformBench {
    public static void main(String[] args) {
        int pages = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        report("read topology", 200, () -> TopologyReader.read());
        report("read memory", 200, () -> MemoryReader.read());
        Topology t = TopologyReader.read();
        MemoryInfo m = MemoryReader.read();
        PartitionRequest r = new PartitionRequest(CpuRequest.count(1), 512L << 20, 512L << 20, true, HugepagePolicy.AUTO);
        report("plan", 2000, () -> PartitionPlanner.plan(r, t, m));
        HugepageReservation h = new HugepageReservation(Path.of("/"));
        report("reserve+release " + pages + " x 2M", 20, () -> {
            HugepageGrant g = h.add(PageSize.SIZE_2M, HugepagePool.GLOBAL, pages);
            h.release(g);
            return g;
        });
        CpuList before = CpuAffinity.ofCurrentThread();
        report("pin current thread", 2000, () -> {
            CpuAffinity.pinCurrentThread(CpuList.of(t.onlineCpus().cpus().get(t.onlineCpus().size() - 1)));
            return null;
        });
        CpuAffinity.pinCurrentThread(before);
    }

    private static void report(String what, int runs, Supplier<?> step) {
        for (int i = 0; i < Math.min(runs, 20); i++) {
            step.get();
        }
        long[] ns = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            step.get();
            ns[i] = System.nanoTime() - t0;
        }
        Arrays.sort(ns);
        System.out.printf("%-28s median %8.1f us   p90 %8.1f us   (%d runs)%n", what, ns[runs / 2] / 1e3,
                ns[runs * 9 / 10] / 1e3, runs);
    }
}
