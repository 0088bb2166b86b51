package org.enclaveruntime.vsock;

import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.vmm.Enclave;
import org.enclaveruntime.vmm.ReadyResult;
import org.enclaveruntime.vmm.VmBuilder;
import org.enclaveruntime.vmm.VmSpec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * vsock benchmark (not a test): boots test-vsock-services.elf (1 vCPU, 256 MiB) and prints, through the
 * hybrid-vsock Unix socket: echo throughput (host -> enclave -> host), one-way host -> enclave (discard port)
 * and enclave -> host (source port), small-message round trips (p50/p99) and connection set-up time.
 *
 * <pre>java -cp target/enclavectl.jar:target/test-classes org.enclaveruntime.vsock.VsockBench [MiB] [guest.elf]</pre>
 */
public final class VsockBench {
    private static final int CHUNK = 1 << 20;

    private VsockBench() {
    }

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 1024;
        Path elf = Path.of(args.length > 1 ? args[1] : "target/guest/test-vsock-services.elf");
        Path dir = Files.createTempDirectory("vsock-bench");
        Path socket = dir.resolve("v.sock");
        VmSpec spec = new VmSpec(1, 256L << 20, Files.readAllBytes(elf), false, null, 3, List.of(),
                MemoryBacking.ORDINARY).withVsock(socket);
        try (Enclave e = VmBuilder.boot(spec)) {
            ReadyResult r = e.awaitReady(Duration.ofSeconds(60));
            if (!(r instanceof ReadyResult.Ready ready)) {
                System.out.println("not ready: " + r);
                return;
            }
            System.out.printf("boot to READY (through the vsock handshake): %.2f ms%n", ready.bootTime().toNanos() / 1e6);
            long bytes = mib << 20;
            for (int round = 0; round < 2; round++) { // the first round warms the JIT
                String tag = round == 0 ? " (warm-up)" : "";
                System.out.printf("echo host->enclave->host, %d MiB%s: %.0f MB/s%n", mib, tag, echo(socket, bytes) / 1e6);
                System.out.printf("one way host->enclave, %d MiB%s: %.0f MB/s%n", mib, tag, sink(socket, bytes) / 1e6);
                System.out.printf("one way enclave->host, %d MiB%s: %.0f MB/s%n", mib, tag, source(socket, bytes) / 1e6);
            }
            roundTrips(socket, 64, 20_000);
            roundTrips(socket, 4096, 5_000);
            setups(socket, 500);
            System.out.printf("notifications taken by the ioeventfd: %d, unclaimed accesses: %d%n",
                    e.notifications(), e.unclaimedAccesses());
            e.shutdown(Duration.ofSeconds(10));
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private static SocketChannel open(Path socket, int port) throws IOException {
        return HybridVsockClient.connect(socket, port).orElseThrow(() -> new IOException("CONNECT " + port + " refused"));
    }

    /** Bytes per second through the echo port, writer and reader on two threads. */
    private static double echo(Path socket, long bytes) throws Exception {
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try (SocketChannel ch = open(socket, 5000)) {
            long t0 = System.nanoTime();
            Future<?> w = writer.submit(() -> {
                ByteBuffer out = ByteBuffer.allocateDirect(CHUNK);
                for (long left = bytes; left > 0; left -= CHUNK) {
                    out.clear().limit((int) Math.min(left, CHUNK));
                    HybridVsockClient.writeFully(ch, out);
                }
                return null;
            });
            ByteBuffer in = ByteBuffer.allocateDirect(CHUNK);
            for (long got = 0; got < bytes; ) {
                in.clear();
                int n = ch.read(in);
                if (n < 0) {
                    throw new IOException("echo ended after " + got + " bytes");
                }
                got += n;
            }
            w.get();
            return bytes / ((System.nanoTime() - t0) / 1e9);
        } finally {
            writer.shutdownNow();
        }
    }

    /** Host -> enclave into the discard port; the close's end-of-stream is part of the time. */
    private static double sink(Path socket, long bytes) throws IOException {
        try (SocketChannel ch = open(socket, 5002)) {
            ByteBuffer out = ByteBuffer.allocateDirect(CHUNK);
            long t0 = System.nanoTime();
            for (long left = bytes; left > 0; left -= CHUNK) {
                out.clear().limit((int) Math.min(left, CHUNK));
                HybridVsockClient.writeFully(ch, out);
            }
            ch.shutdownOutput();
            ch.read(ByteBuffer.allocate(1)); // the enclave closes when it has read everything
            return bytes / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** Enclave -> host from the source port. */
    private static double source(Path socket, long bytes) throws IOException {
        try (SocketChannel ch = open(socket, 5003)) {
            ByteBuffer in = ByteBuffer.allocateDirect(CHUNK);
            long t0 = System.nanoTime();
            for (long got = 0; got < bytes; ) {
                in.clear();
                int n = ch.read(in);
                if (n < 0) {
                    throw new IOException("source ended after " + got + " bytes");
                }
                got += n;
            }
            return bytes / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private static void roundTrips(Path socket, int size, int count) throws IOException {
        try (SocketChannel ch = open(socket, 5000)) {
            ByteBuffer out = ByteBuffer.allocateDirect(size);
            ByteBuffer in = ByteBuffer.allocateDirect(size);
            long[] ns = new long[count];
            for (int i = -count / 10; i < count; i++) { // the first tenth warms up
                out.clear();
                in.clear();
                long t0 = System.nanoTime();
                HybridVsockClient.writeFully(ch, out);
                if (!HybridVsockClient.readFully(ch, in)) {
                    throw new IOException("echo closed");
                }
                if (i >= 0) {
                    ns[i] = System.nanoTime() - t0;
                }
            }
            Arrays.sort(ns);
            System.out.printf("round trip %d B: p50 %.1f us, p99 %.1f us, max %.1f us (%d)%n", size,
                    ns[count / 2] / 1e3, ns[count * 99 / 100] / 1e3, ns[count - 1] / 1e3, count);
        }
    }

    private static void setups(Path socket, int count) throws IOException {
        long[] ns = new long[count];
        for (int i = 0; i < count; i++) {
            long t0 = System.nanoTime();
            SocketChannel ch = open(socket, 5000);
            ns[i] = System.nanoTime() - t0;
            ch.close();
        }
        Arrays.sort(ns);
        System.out.printf("connection set-up (connect + CONNECT + OK): p50 %.1f us, p99 %.1f us (%d)%n",
                ns[count / 2] / 1e3, ns[count * 99 / 100] / 1e3, count);
    }
}
