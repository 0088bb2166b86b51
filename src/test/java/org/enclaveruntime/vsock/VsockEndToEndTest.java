package org.enclaveruntime.vsock;

import org.enclaveruntime.devices.HypercallPorts;
import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.testing.RequiresKvm;
import org.enclaveruntime.vmm.Enclave;
import org.enclaveruntime.vmm.EnclaveExit;
import org.enclaveruntime.vmm.ReadyResult;
import org.enclaveruntime.vmm.TestGuests;
import org.enclaveruntime.vmm.VmBuilder;
import org.enclaveruntime.vmm.VmSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.enclaveruntime.vsock.HybridVsockClient.readFully;
import static org.enclaveruntime.vsock.HybridVsockClient.writeFully;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The enclave's vsock end to end on real KVM: the guest's virtio-vsock driver (src/guest) against the VMM's
 * device and the hybrid-vsock bridge, driven from Java through the Unix socket as a host program would.
 * The guest `test-vsock-services.elf` serves: 5000 echo, 5001 a 1 MiB pattern then close, 5002 discard,
 * 5003 an endless pattern, 5004 a connection back to host port 6000.
 */
@RequiresKvm
class VsockEndToEndTest {
    private static final long RAM = 256L << 20;
    private static final Duration READY = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private Enclave enclave;
    private Path socket;

    private Enclave boot(String guest, int vcpus) {
        byte[] elf = TestGuests.built(guest);
        assertNotNull(elf, "target/guest/" + guest + " is not built (mvn generate-resources builds it)");
        socket = dir.resolve("v.sock");
        VmSpec spec = new VmSpec(vcpus, RAM, elf, true, dir.resolve("console.log"), 3, List.of(),
                MemoryBacking.ORDINARY).withVsock(socket);
        enclave = VmBuilder.boot(spec);
        ReadyResult r = enclave.awaitReady(READY);
        assertInstanceOf(ReadyResult.Ready.class, r, () -> r + "; console: " + console());
        return enclave;
    }

    private String console() {
        try {
            return Files.readString(dir.resolve("console.log"));
        } catch (IOException e) {
            return "(none: " + e + ")";
        }
    }

    @AfterEach
    void stop() {
        if (enclave != null) {
            EnclaveExit how = enclave.shutdown(Duration.ofSeconds(10));
            enclave.close();
            assertEquals(new EnclaveExit.Stopped(false), how, "the enclave shut down cleanly; console: " + console());
            assertTrue(Files.notExists(socket), "the bridge removed its socket " + socket);
        }
    }

    private SocketChannel open(int port) throws IOException {
        Optional<SocketChannel> ch = HybridVsockClient.connect(socket, port);
        assertTrue(ch.isPresent(), "CONNECT " + port + " was refused; console: " + console());
        return ch.get();
    }

    private static final int BLOCK = 256 << 10;

    /**
     * Sends {@code bytes} of seeded random data through the echo service and checks what comes back byte by
     * byte against the same stream generated again, so a failure names the first offset that differs.
     */
    private static void echo(SocketChannel ch, long bytes, long seed) throws Exception {
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            Future<?> sent = writer.submit(() -> {
                Random r = new Random(seed);
                ByteBuffer chunk = ByteBuffer.allocateDirect(BLOCK);
                byte[] data = new byte[BLOCK];
                for (long left = bytes; left > 0; ) {
                    int n = (int) Math.min(left, BLOCK);
                    r.nextBytes(data);
                    chunk.clear();
                    chunk.put(data, 0, n).flip();
                    writeFully(ch, chunk);
                    left -= n;
                }
                return null;
            });
            Random expected = new Random(seed);
            byte[] want = new byte[BLOCK];
            ByteBuffer in = ByteBuffer.allocateDirect(BLOCK);
            for (long block = 0; block * BLOCK < bytes; block++) {
                expected.nextBytes(want);
                int n = (int) Math.min(bytes - block * BLOCK, BLOCK);
                in.clear().limit(n);
                assertTrue(readFully(ch, in), "the echo ended within bytes " + block * BLOCK + ".." + (block * BLOCK + n)
                        + " of " + bytes);
                for (int i = 0; i < n; i++) {
                    if (in.get(i) != want[i]) {
                        throw new AssertionError("echoed byte " + (block * BLOCK + i) + " of " + bytes + " differs: sent "
                                + want[i] + ", got " + in.get(i) + (i + 8 <= n ? "; next bytes sent " + slice(want, i)
                                + " got " + slice(in, i) : "") + "; " + compareAgain(in, n, seed, block));
                    }
                }
            }
            sent.get(5, TimeUnit.MINUTES);
        } finally {
            writer.shutdownNow();
        }
    }

    /**
     * After a mismatch: the same received block compared a second time, by other code (a fresh generator,
     * Arrays.mismatch), and the extent of the damage. On an emulated host whose JVMs crash in JIT code, a second
     * comparison that finds nothing means the first one, not the data, was wrong; a damaged run of 4 KiB points
     * at a page, a few bytes at a copy.
     */
    private static String compareAgain(ByteBuffer in, int n, long seed, long block) {
        byte[] got = new byte[n];
        in.get(0, got);
        Random fresh = new Random(seed);
        byte[] want = new byte[BLOCK];
        for (long b = 0; b <= block; b++) {
            fresh.nextBytes(want);
        }
        int first = java.util.Arrays.mismatch(got, 0, n, want, 0, n);
        if (first < 0) {
            return "compared again: no byte differs, so the first comparison was wrong, not the data";
        }
        int count = 0;
        int last = first;
        for (int i = first; i < n; i++) {
            if (got[i] != want[i]) {
                count++;
                last = i;
            }
        }
        return "compared again: " + count + " bytes of this block differ, from block offset " + first + " to " + last;
    }

    private static String slice(byte[] b, int at) {
        return java.util.Arrays.toString(java.util.Arrays.copyOfRange(b, at, at + 8));
    }

    private static String slice(ByteBuffer b, int at) {
        byte[] out = new byte[8];
        b.get(at, out);
        return java.util.Arrays.toString(out);
    }

    @Test
    void demoRuntimeBecomesReadyThroughTheHandshakeAndEchoes() throws Exception {
        boot("runtime.elf", 1);
        assertTrue(console().contains("9000"), "the runtime says it did the ready handshake: " + console());
        try (SocketChannel ch = open(5000)) {
            echo(ch, 1 << 20, 1);
        }
    }

    @Test
    void sixtyFourMibEchoIntact() throws Exception {
        boot("test-vsock-services.elf", 1);
        try (SocketChannel ch = open(5000)) {
            echo(ch, 64L << 20, 64);
        }
    }

    @Test
    void sixtyFourConcurrentConnections() throws Exception {
        boot("test-vsock-services.elf", 2);
        List<SocketChannel> channels = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            for (int i = 0; i < 64; i++) {
                channels.add(open(5000));
            }
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < channels.size(); i++) {
                SocketChannel ch = channels.get(i);
                long seed = i;
                done.add(pool.submit(() -> {
                    echo(ch, 256 << 10, seed);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
            for (SocketChannel ch : channels) {
                ch.close();
            }
        }
    }

    @Test
    void connectToAPortNobodyListensOnIsClosedWithoutOk() throws Exception {
        boot("test-vsock-services.elf", 1);
        assertEquals(Optional.empty(), HybridVsockClient.request(socket, "CONNECT 7777\n"));
        try (SocketChannel ch = open(5000)) {
            echo(ch, 4096, 2); // the bridge goes on serving
        }
    }

    @Test
    void garbageClosesThatClientOnly() throws Exception {
        boot("test-vsock-services.elf", 1);
        try (SocketChannel good = open(5000)) {
            for (String garbage : List.of("HELLO\n", "CONNECT abc\n", "CONNECT 99999999999\n", "CONNECT -1\n",
                    "x".repeat(40), "CONNECT 5000 extra\n", "\n")) {
                assertEquals(Optional.empty(), HybridVsockClient.request(socket, garbage),
                        "the bridge accepted " + garbage.strip());
            }
            echo(good, 64 << 10, 3); // a connection opened before the garbage is untouched
        }
    }

    @Test
    void aClientClosingMidStreamLeavesTheEnclaveServing() throws Exception {
        boot("test-vsock-services.elf", 1);
        for (int round = 0; round < 8; round++) {
            SocketChannel ch = open(5000);
            writeFully(ch, ByteBuffer.wrap(new byte[(round + 1) * 100_000]));
            ch.close(); // without reading the echo
        }
        try (SocketChannel ch = open(5000)) {
            echo(ch, 1 << 20, 4);
        }
    }

    @Test
    void theEnclaveClosingIsTheEndOfTheStream() throws Exception {
        boot("test-vsock-services.elf", 1);
        try (SocketChannel ch = open(5001)) {
            ByteBuffer all = ByteBuffer.allocate(1 << 20);
            assertTrue(readFully(ch, all), "1 MiB before the close");
            for (int i = 0; i < all.capacity(); i++) {
                assertEquals((byte) (i * 7 + (i >> 12)), all.get(i), "pattern byte " + i);
            }
            assertEquals(-1, ch.read(ByteBuffer.allocate(1)), "end of stream after the pattern");
        }
    }

    /**
     * A client that writes and never reads: the echo fills every buffer on the way, then the writes stall
     * (credit), with a bounded amount in flight; meanwhile another connection is served.
     */
    @Test
    void aClientThatNeverReadsGetsBackpressure() throws Exception {
        boot("test-vsock-services.elf", 1);
        try (SocketChannel hog = open(5000)) {
            hog.configureBlocking(false);
            ByteBuffer chunk = ByteBuffer.allocateDirect(64 << 10);
            long written = 0;
            int idle = 0;
            while (idle < 50) { // 50 rounds of 20 ms without progress: stalled
                chunk.clear();
                int n = hog.write(chunk);
                written += n;
                idle = n == 0 ? idle + 1 : 0;
                if (n == 0) {
                    Thread.sleep(20);
                }
                assertTrue(written < (64L << 20), "64 MiB went in without being read: no backpressure");
            }
            try (SocketChannel other = open(5000)) {
                echo(other, 256 << 10, 5);
            }
        }
    }

    @Test
    void theEnclaveConnectsToAHostListener() throws Exception {
        boot("test-vsock-services.elf", 1);
        Path listener = Path.of(socket + "_6000");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(listener));
            try (SocketChannel trigger = open(5004)) {
                ExecutorService accept = Executors.newSingleThreadExecutor();
                try (SocketChannel in = accept.submit(server::accept).get(60, TimeUnit.SECONDS)) {
                    ByteBuffer line = ByteBuffer.allocate(64);
                    while (in.read(line) > 0) {
                        // until the enclave closes
                    }
                    assertEquals("hello from the enclave\n",
                            new String(line.array(), 0, line.position(), StandardCharsets.US_ASCII));
                } finally {
                    accept.shutdownNow();
                }
            }
        }
    }

    /**
     * Each hostile guest breaks its device once (and sees DEVICE_NEEDS_RESET, which it REPORTs), resets it,
     * sets it up properly and serves: the VMM and the device outlived the attack.
     */
    @Test
    void hostileGuestsBreakOnlyTheirOwnDevice() throws Exception {
        for (String guest : List.of("test-vsock-bad-ring-addr.elf", "test-vsock-bad-desc.elf", "test-vsock-loop.elf",
                "test-vsock-endless.elf", "test-vsock-queue-size.elf")) {
            boot(guest, 1);
            assertTrue(enclave.reports().stream().map(HypercallPorts.Report::value).anyMatch(v -> (v & 0x40) != 0),
                    guest + " saw DEVICE_NEEDS_RESET: " + enclave.reports() + "; console: " + console());
            try (SocketChannel ch = open(5000)) {
                echo(ch, 64 << 10, 6);
            }
            stop();
            enclave = null;
        }
    }
}
