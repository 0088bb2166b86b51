package org.enclaveruntime.vsock;

import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.devices.virtio.VirtioMmio;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;
import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device and bridge under load without KVM, the host half of VsockEndToEndTest.sixtyFourMibEchoIntact: a
 * client writes a seeded stream through the Unix socket in random chunks on one thread and reads the echo in
 * random chunks on another, while {@link EchoStressGuest} echoes it with random rings, splits, packet sizes,
 * credit and delays on a third. Both the guest (host → guest) and the client (the round trip) compare every
 * byte, so a failure names the first offset that differs and its direction.
 *
 * <p>The suite runs a few seeds of a few MiB. For the long run (many minutes, 64 MiB a round):
 * {@code mvn -B -o surefire:test -Dtest=VsockEchoStressTest#longRun -Dvsock.stress.seconds=600
 * -Dvsock.stress.mib=64 -Dvsock.stress.seed=1}; each round prints its seeds and numbers.
 */
class VsockEchoStressTest {
    @TempDir
    Path dir;

    @Test
    void randomEchoesComeBackIntact() throws Exception {
        for (long seed = 1; seed <= 4; seed++) {
            round(seed, 3L << 20, false);
        }
    }

    /** Over 65536 packets each way: the free-running 16-bit avail and used indexes wrap mid-stream. */
    @Test
    void ringIndexesWrapMidStream() throws Exception {
        round(5, 16L << 20, true);
    }

    @Test
    void longRun() throws Exception {
        long seconds = Long.getLong("vsock.stress.seconds", 0);
        if (seconds <= 0) {
            return; // by hand only: see the class comment
        }
        long bytes = Long.getLong("vsock.stress.mib", 64) << 20;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long total = 0;
        int rounds = 0;
        for (long seed = Long.getLong("vsock.stress.seed", 1); System.nanoTime() < until; seed++) {
            total += round(seed, seed % 5 == 0 ? bytes / 4 : bytes, seed % 5 == 0);
            rounds++;
        }
        System.out.println("vsock stress: " + rounds + " rounds, " + (total >> 20) + " MiB echoed intact");
    }

    /** One connection, {@code bytes} each way; returns the bytes echoed. */
    private long round(long seed, long bytes, boolean tiny) throws Exception {
        Path socket = dir.resolve("s" + seed + ".sock");
        Random r = new Random(seed);
        int[] hostBuffers = {VsockSettings.BUF_ALLOC, 65536, 20000};
        int hostBufAlloc = hostBuffers[r.nextInt(hostBuffers.length)];
        long streamSeed = r.nextLong();
        long start = System.nanoTime();
        GuestMemory memory = GuestMemory.create(EchoStressGuest.MEMORY_SIZE, new MemoryBacking.Ordinary());
        int notifyFd = LibC.INSTANCE.eventfd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
        GuestLog guestLog = new GuestLog();
        EchoStressGuest[] guestRef = new EchoStressGuest[1];
        EchoStressGuest guest = new EchoStressGuest(memory, notifyFd, r.nextLong(), streamSeed, tiny);
        guestRef[0] = guest;
        VsockSettings settings = new VsockSettings(socket, null, hostBufAlloc, 16, Duration.ofSeconds(5),
                Duration.ofSeconds(2));
        VsockDevice device = new VsockDevice(memory, EchoStressGuest.CID, settings, notifyFd,
                () -> guestRef[0].workPending(), () -> { }, guestLog);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        Thread guestThread = new Thread(guest, "stress-guest");
        String what = "seed " + seed + " (stream seed " + streamSeed + ", host buf_alloc " + hostBufAlloc
                + ", guest buf_alloc " + guest.bufAlloc() + ")";
        try {
            VirtioMmio mmio = new VirtioMmio("virtio-vsock", device, memory, guestLog);
            device.start();
            guest.setUp(mmio);
            guestThread.start();
            SocketChannel ch = connect(socket, guest);
            AtomicLong written = new AtomicLong();
            Future<?> writer = threads.submit(() -> {
                write(ch, bytes, streamSeed, new Random(seed ^ 0x5DEECE66DL), written);
                return null;
            });
            Future<Long> reader = threads.submit(() -> read(ch, bytes, streamSeed, new Random(seed * 7 + 1), guest));
            long echoed;
            try {
                echoed = reader.get(10, TimeUnit.MINUTES);
                writer.get(1, TimeUnit.MINUTES);
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable g = guest.failure();
                throw new AssertionError(what + ": " + e.getCause().getMessage()
                        + (g == null ? "" : "; the guest failed first: " + g.getMessage()) + "; " + guest.stats(),
                        e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError(what + ": stuck after " + written.get() + " bytes written; "
                        + guest.stats() + "; guest failure " + guest.failure());
            }
            ch.close();
            assertNull(guest.failure(), () -> what + ": the guest failed: " + guest.failure());
            assertEquals(bytes, echoed, what);
            assertEquals(bytes, guest.bytesIn, what + ": bytes the guest received");
            assertEquals(0, guest.lostWakeups, what + ": lost wake-ups; " + guest.stats());
            if (tiny) {
                assertTrue(guest.packetsIn > 65536 && guest.packetsOut > 65536, what + ": the indexes did not wrap; "
                        + guest.stats());
            }
            assertTrue(device.maxHostBuffered() <= hostBufAlloc, what + ": host buffer above the credit");
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("vsock stress %s: %d MiB echoed intact in %.1f s; %s; host buffer peak %d%n", what,
                    bytes >> 20, seconds, guest.stats(), device.maxHostBuffered());
            return echoed;
        } finally {
            guest.stop();
            guestThread.join(10_000);
            threads.shutdownNow();
            device.close();
            guestLog.close();
            LibC.INSTANCE.close(notifyFd);
            memory.close();
        }
    }

    private static SocketChannel connect(Path socket, EchoStressGuest guest) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            // The device takes DRIVER_OK on its own thread: a client that comes too early is closed; try again.
            var ch = HybridVsockClient.connect(socket, EchoStressGuest.PORT);
            if (ch.isPresent()) {
                return ch.get();
            }
            if (guest.failure() != null || System.nanoTime() > until) {
                throw new AssertionError("the bridge never connected to the guest: " + guest.failure());
            }
            Thread.sleep(10);
        }
    }

    /** The stream in random chunks (1 byte to 256 KiB), with pauses now and then; then SHUT_WR. */
    private static void write(SocketChannel ch, long bytes, long streamSeed, Random r, AtomicLong written)
            throws Exception {
        byte[] block = new byte[65536];
        long[] blockNo = {-1};
        ByteBuffer buf = ByteBuffer.allocateDirect(256 << 10);
        for (long at = 0; at < bytes; ) {
            int n = (int) Math.min(bytes - at, chunk(r));
            buf.clear();
            for (int i = 0; i < n; i++) {
                buf.put(EchoStressGuest.streamByte(streamSeed, at + i, block, blockNo));
            }
            buf.flip();
            HybridVsockClient.writeFully(ch, buf);
            at += n;
            written.set(at);
            if (r.nextInt(500) == 0) {
                Thread.sleep(r.nextInt(5));
            }
        }
        ch.shutdownOutput();
    }

    /** Reads the echo in random chunks to the end of stream; fails at the first byte that differs. */
    private static long read(SocketChannel ch, long bytes, long streamSeed, Random r, EchoStressGuest guest)
            throws Exception {
        byte[] block = new byte[65536];
        long[] blockNo = {-1};
        ByteBuffer buf = ByteBuffer.allocateDirect(256 << 10);
        long at = 0;
        while (true) {
            buf.clear().limit(chunk(r));
            int n = ch.read(buf);
            if (n < 0) {
                return at;
            }
            for (int i = 0; i < n; i++) {
                byte want = EchoStressGuest.streamByte(streamSeed, at + i, block, blockNo);
                if (buf.get(i) != want) {
                    throw new AssertionError("echoed byte " + (at + i) + " of " + bytes + " differs: sent " + want
                            + ", got " + buf.get(i) + " (guest had received " + guest.bytesIn + ", sent "
                            + guest.bytesOut + ")");
                }
            }
            at += n;
            if (at > bytes) {
                throw new AssertionError("the echo is longer than the " + bytes + " bytes sent");
            }
            if (r.nextInt(50) == 0) {
                Thread.sleep(r.nextInt(20)); // a slow client: the socket fills and the host buffer takes the rest
            }
        }
    }

    private static int chunk(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> 1 + r.nextInt(64);
            case 1 -> 1 + r.nextInt(4096);
            case 2 -> 1 + r.nextInt(65536);
            default -> 1 + r.nextInt(256 << 10);
        };
    }
}
