package org.enclaveruntime.vsock;

import com.kenai.jffi.MemoryIO;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The measurement behind the vsock bridge's socket choice (docs/vsock.md, "Design"): raw libc calls through
 * JNR against the JDK's Unix-domain SocketChannel, both on a connected pair of Unix stream sockets, both with
 * direct buffers (the device reads and writes views of guest RAM, which are direct). Bulk: 1 MiB writes and
 * reads, each way; small: 64-byte round trips. Not a test; run by hand:
 * java -cp target/enclavectl.jar:target/test-classes org.enclaveruntime.vsock.SocketBench [MiB per run]
 */
public final class SocketBench {
    private static final LibC LIBC = LibC.INSTANCE;
    private static final MemoryIO MEMORY = MemoryIO.getInstance();
    private static final int CHUNK = 1 << 20;

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 2048;
        for (int round = 0; round < 3; round++) {
            System.out.printf("round %d%n", round);
            int[] pair = libcPair();
            report("libc/JNR a->b", bulkLibc(pair[0], pair[1], mib), mib);
            report("libc/JNR b->a", bulkLibc(pair[1], pair[0], mib), mib);
            SocketChannel[] jdk = jdkPair();
            report("JDK channel a->b", bulkJdk(jdk[0], jdk[1], mib), mib);
            report("JDK channel b->a", bulkJdk(jdk[1], jdk[0], mib), mib);
            latency("libc/JNR 64 B round trip", () -> pingLibc(pair[0], pair[1]));
            latency("JDK channel 64 B round trip", () -> pingJdk(jdk[0], jdk[1]));
            wakeLatency();
            LIBC.close(pair[0]);
            LIBC.close(pair[1]);
            jdk[0].close();
            jdk[1].close();
        }
    }

    private static int[] libcPair() {
        long fds = MEMORY.allocateMemory(8, true);
        if (LIBC.socketpair(Native.AF_UNIX, Native.SOCK_STREAM | Native.SOCK_CLOEXEC, 0, fds) != 0) {
            throw new IllegalStateException("socketpair: " + Native.describe(Native.errno()));
        }
        int[] pair = {MEMORY.getInt(fds), MEMORY.getInt(fds + 4)};
        MEMORY.freeMemory(fds);
        return pair;
    }

    private static SocketChannel[] jdkPair() throws IOException {
        Path dir = Files.createTempDirectory("sockbench");
        Path path = dir.resolve("s");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            SocketChannel a = SocketChannel.open(UnixDomainSocketAddress.of(path));
            SocketChannel b = server.accept();
            return new SocketChannel[] {a, b};
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }

    /** Nanoseconds to move {@code mib} MiB from {@code from} to {@code to} in 1 MiB writes and reads. */
    private static long bulkLibc(int from, int to, long mib) throws InterruptedException {
        long total = mib << 20;
        ByteBuffer src = ByteBuffer.allocateDirect(CHUNK);
        long srcAddr = MEMORY.getDirectBufferAddress(src);
        Thread writer = new Thread(() -> {
            for (long sent = 0; sent < total; ) {
                long n = LIBC.write(from, srcAddr, (int) Math.min(CHUNK, total - sent));
                if (n < 0) {
                    throw new IllegalStateException("write: " + Native.describe(Native.errno()));
                }
                sent += n;
            }
        });
        ByteBuffer dst = ByteBuffer.allocateDirect(CHUNK);
        long dstAddr = MEMORY.getDirectBufferAddress(dst);
        long t0 = System.nanoTime();
        writer.start();
        for (long got = 0; got < total; ) {
            long n = LIBC.read(to, dstAddr, CHUNK);
            if (n <= 0) {
                throw new IllegalStateException("read: " + Native.describe(Native.errno()));
            }
            got += n;
        }
        long ns = System.nanoTime() - t0;
        writer.join();
        return ns;
    }

    private static long bulkJdk(SocketChannel from, SocketChannel to, long mib) throws Exception {
        long total = mib << 20;
        Thread writer = new Thread(() -> {
            ByteBuffer src = ByteBuffer.allocateDirect(CHUNK);
            try {
                for (long sent = 0; sent < total; ) {
                    src.clear().limit((int) Math.min(CHUNK, total - sent));
                    sent += from.write(src);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        ByteBuffer dst = ByteBuffer.allocateDirect(CHUNK);
        long t0 = System.nanoTime();
        writer.start();
        for (long got = 0; got < total; ) {
            dst.clear();
            int n = to.read(dst);
            if (n < 0) {
                throw new IOException("end of stream");
            }
            got += n;
        }
        long ns = System.nanoTime() - t0;
        writer.join();
        return ns;
    }

    private static final ByteBuffer PING = ByteBuffer.allocateDirect(64);
    private static final long PING_ADDR = MEMORY.getDirectBufferAddress(PING);

    private static void pingLibc(int a, int b) {
        LIBC.write(a, PING_ADDR, 64);
        for (int got = 0; got < 64; ) {
            got += (int) LIBC.read(b, PING_ADDR, 64 - got);
        }
        LIBC.write(b, PING_ADDR, 64);
        for (int got = 0; got < 64; ) {
            got += (int) LIBC.read(a, PING_ADDR, 64 - got);
        }
    }

    private static void pingJdk(SocketChannel a, SocketChannel b) {
        try {
            PING.clear();
            a.write(PING);
            PING.clear();
            while (PING.hasRemaining()) {
                b.read(PING);
            }
            PING.clear();
            b.write(PING);
            PING.clear();
            while (PING.hasRemaining()) {
                a.read(PING);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The other half of the choice: the notify eventfd KVM signals must wake the thread that serves the sockets.
     * One epoll sees it directly; a JDK Selector cannot register an eventfd, so a relay thread blocked in read
     * would have to call Selector.wakeup(). Measured as a ping-pong: the main thread signals, the served
     * thread wakes and signals back on a second eventfd the main thread blocks on.
     */
    private static void wakeLatency() throws Exception {
        int ping = LIBC.eventfd(0, Native.EFD_CLOEXEC);
        int pong = LIBC.eventfd(0, Native.EFD_CLOEXEC);
        long word = MEMORY.allocateMemory(8, true);
        long word2 = MEMORY.allocateMemory(8, true);
        MEMORY.putLong(word, 1);
        int rounds = 50_000;
        // epoll: the served thread waits in epoll_wait on the eventfd, as the vsock thread does.
        Epoll epoll = new Epoll(4);
        epoll.add(ping, Native.EPOLLIN, 1);
        long word3 = MEMORY.allocateMemory(8, true);
        MEMORY.putLong(word3, 1);
        Thread served = new Thread(() -> {
            try {
                for (int i = 0; i < rounds + 2000; i++) {
                    while (epoll.await(-1) == 0) {
                        Thread.onSpinWait();
                    }
                    LIBC.read(ping, word2, 8);
                    LIBC.write(pong, word3, 8);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        served.start();
        latencyOf("eventfd -> epoll thread", rounds, () -> {
            LIBC.write(ping, word, 8);
            LIBC.read(pong, word, 8);
            MEMORY.putLong(word, 1);
        });
        served.join();
        epoll.close();
        // Selector: a relay thread blocks in read(eventfd) and wakes the selector thread.
        java.nio.channels.Selector selector = java.nio.channels.Selector.open();
        long word4 = MEMORY.allocateMemory(8, true);
        Thread relay = new Thread(() -> {
            for (int i = 0; i < rounds + 2000; i++) {
                LIBC.read(ping, word4, 8);
                selector.wakeup();
            }
        });
        Thread selecting = new Thread(() -> {
            try {
                for (int i = 0; i < rounds + 2000; i++) {
                    selector.select();
                    LIBC.write(pong, word3, 8);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        relay.start();
        selecting.start();
        latencyOf("eventfd -> relay -> Selector", rounds, () -> {
            LIBC.write(ping, word, 8);
            LIBC.read(pong, word, 8);
            MEMORY.putLong(word, 1);
        });
        relay.join();
        selecting.join();
        selector.close();
        LIBC.close(ping);
        LIBC.close(pong);
    }

    private static void latencyOf(String what, int runs, Runnable step) {
        for (int i = 0; i < 2000; i++) {
            step.run();
        }
        long[] ns = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            step.run();
            ns[i] = System.nanoTime() - t0;
        }
        Arrays.sort(ns);
        System.out.printf("  %-28s p50 %6.2f us  p99 %6.2f us%n", what, ns[runs / 2] / 1e3, ns[runs * 99 / 100] / 1e3);
    }

    private static void report(String what, long ns, long mib) {
        System.out.printf("  %-28s %6.2f GB/s%n", what, (mib << 20) / (double) ns);
    }

    private static void latency(String what, Runnable step) {
        int runs = 200_000;
        for (int i = 0; i < 20_000; i++) {
            step.run();
        }
        long[] ns = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            step.run();
            ns[i] = System.nanoTime() - t0;
        }
        Arrays.sort(ns);
        System.out.printf("  %-28s p50 %6.2f us  p99 %6.2f us%n", what, ns[runs / 2] / 1e3, ns[runs * 99 / 100] / 1e3);
    }
}
