package org.enclaveruntime.vsock;

import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.devices.virtio.VirtioMmio;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;
import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.vsock.TestGuestDriver.Packet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.enclaveruntime.vsock.VsockHeader.OP_CREDIT_UPDATE;
import static org.enclaveruntime.vsock.VsockHeader.OP_REQUEST;
import static org.enclaveruntime.vsock.VsockHeader.OP_RESPONSE;
import static org.enclaveruntime.vsock.VsockHeader.OP_RST;
import static org.enclaveruntime.vsock.VsockHeader.OP_RW;
import static org.enclaveruntime.vsock.VsockHeader.OP_SHUTDOWN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vsock device against {@link TestGuestDriver} (the guest's side of the rings in plain guest memory) and
 * real Unix sockets: no KVM needed.
 */
class VsockDeviceTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration QUIET = Duration.ofMillis(300);
    private static final int GUEST_PORT = 5000;
    private static final int DEVICE_NEEDS_RESET = 0x40;

    @TempDir
    Path dir;
    private Path socket;
    private GuestMemory memory;
    private int notifyFd;
    private GuestLog guestLog;
    private VsockDevice device;
    private VirtioMmio mmio;
    private TestGuestDriver guest;
    private final AtomicInteger wakeups = new AtomicInteger();
    private final AtomicInteger readies = new AtomicInteger();

    @BeforeEach
    void startDevice() {
        socket = dir.resolve("v.sock");
        memory = GuestMemory.create(TestGuestDriver.MEMORY_SIZE, new MemoryBacking.Ordinary());
        notifyFd = LibC.INSTANCE.eventfd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
        guestLog = new GuestLog();
        VsockSettings settings = new VsockSettings(socket, null, VsockSettings.BUF_ALLOC, 128,
                Duration.ofSeconds(2), Duration.ofSeconds(1));
        device = new VsockDevice(memory, TestGuestDriver.CID, settings, notifyFd, wakeups::incrementAndGet,
                readies::incrementAndGet, guestLog);
        mmio = new VirtioMmio("virtio-vsock", device, memory, guestLog);
        device.start();
        guest = new TestGuestDriver(memory, notifyFd);
        guest.setUp(mmio);
        guest.postRxBuffers();
        // activate() hands over asynchronously: a packet for an unknown connection is answered once it is done.
        guest.send(1, 1, VsockHeader.OP_CREDIT_REQUEST, 0, 0, new byte[0]);
        try {
            assertEquals(OP_RST, guest.expect(WAIT).op());
        } catch (TimeoutException e) {
            throw new AssertionError("the device never became active", e);
        }
    }

    @AfterEach
    void stopDevice() {
        if (device != null) {
            device.close();
        }
        guestLog.close();
        LibC.INSTANCE.close(notifyFd);
        memory.close();
    }

    // ---- helpers ----

    private SocketChannel client() throws IOException {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        c.connect(UnixDomainSocketAddress.of(socket));
        return c;
    }

    private static void write(SocketChannel c, String s) throws IOException {
        write(c, s.getBytes(StandardCharsets.US_ASCII));
    }

    private static void write(SocketChannel c, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    /**
     * Reads until a newline or the end of stream (blocking, bounded by the test's own timeout); null when the
     * bridge closed the connection first. A close with unread bytes reaches the client as a reset.
     */
    private static String readLine(SocketChannel c) throws IOException {
        StringBuilder s = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            int n;
            try {
                n = c.read(one);
            } catch (java.net.SocketException e) {
                if (!String.valueOf(e.getMessage()).contains("reset")) {
                    throw e;
                }
                n = -1;
            }
            if (n < 0) {
                return s.length() == 0 ? null : s.toString();
            }
            char ch = (char) one.get(0);
            s.append(ch);
            if (ch == '\n') {
                return s.toString();
            }
        }
    }

    private static byte[] readExactly(SocketChannel c, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new IOException("end of stream after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.array();
    }

    /** The next packet that is not a CREDIT_UPDATE. */
    private Packet next() throws TimeoutException {
        while (true) {
            Packet p = guest.expect(WAIT);
            if (p.op() != OP_CREDIT_UPDATE) {
                return p;
            }
        }
    }

    /** A client connected through CONNECT to the guest port, with the guest's side answered. */
    private record Bridged(SocketChannel client, long hostPort) {
    }

    private Bridged bridge(int guestPort) throws Exception {
        SocketChannel c = client();
        write(c, "CONNECT " + guestPort + "\n");
        Packet request = next();
        assertEquals(OP_REQUEST, request.op(), request.toString());
        assertEquals(guestPort, request.dstPort());
        assertEquals(VsockHeader.HOST_CID, request.srcCid());
        assertEquals(TestGuestDriver.CID, request.dstCid());
        assertEquals(VsockSettings.BUF_ALLOC, request.bufAlloc());
        guest.send(guestPort, request.srcPort(), OP_RESPONSE, 0, 0, new byte[0]);
        assertEquals("OK " + request.srcPort() + "\n", readLine(c));
        return new Bridged(c, request.srcPort());
    }

    private void awaitConnections(int n) throws InterruptedException {
        long until = System.nanoTime() + WAIT.toNanos();
        while (device.connections() != n && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertEquals(n, device.connections(), "live connections");
    }

    /** The device still serves: a full CONNECT round trip works. */
    private void assertAlive() throws Exception {
        Bridged b = bridge(GUEST_PORT + 99);
        guest.send(GUEST_PORT + 99, b.hostPort(), OP_RW, 0, 0, "alive".getBytes(StandardCharsets.US_ASCII));
        assertEquals("alive", new String(readExactly(b.client(), 5), StandardCharsets.US_ASCII));
        b.client().close();
    }

    // ---- the bridge ----

    @Test
    void connectCarriesBytesBothWaysAndClientCloseShutsDownTheGuestSide() throws Exception {
        Bridged b = bridge(GUEST_PORT);
        assertTrue(b.hostPort() >= 1L << 30, "host ports come from 2^30 up: " + b.hostPort());
        write(b.client(), "hello");
        Packet data = next();
        assertEquals(OP_RW, data.op());
        assertEquals(b.hostPort(), data.srcPort());
        assertEquals("hello", new String(data.payload(), StandardCharsets.US_ASCII));

        guest.send(GUEST_PORT, b.hostPort(), OP_RW, 0, 0, "world".getBytes(StandardCharsets.US_ASCII));
        assertEquals("world", new String(readExactly(b.client(), 5), StandardCharsets.US_ASCII));

        b.client().close();
        Packet shutdown = next();
        if (shutdown.op() == OP_SHUTDOWN && shutdown.flags() == VsockHeader.SHUTDOWN_SEND) {
            shutdown = next(); // EOF was read before the HUP was seen: half a close, then the rest
        }
        assertEquals(OP_SHUTDOWN, shutdown.op(), shutdown.toString());
        assertEquals(VsockHeader.SHUTDOWN_BOTH, shutdown.flags());
        guest.send(GUEST_PORT, b.hostPort(), OP_SHUTDOWN, VsockHeader.SHUTDOWN_BOTH, 0, new byte[0]);
        awaitConnections(0);
    }

    @Test
    void connectToAPortNobodyListensOnClosesTheClientWithoutOk() throws Exception {
        SocketChannel c = client();
        write(c, "CONNECT 5001\n");
        Packet request = next();
        assertEquals(OP_REQUEST, request.op());
        guest.send(5001, request.srcPort(), OP_RST, 0, 0, new byte[0]);
        assertEquals(null, readLine(c), "closed without OK");
        awaitConnections(0);
    }

    @Test
    void garbageClosesOnlyThatClient() throws Exception {
        List<SocketChannel> bad = new ArrayList<>();
        for (String line : List.of("HELLO 5000\n", "CONNECT abc\n", "CONNECT 99999999999\n", "CONNECT -1\n",
                "CONNECT 5000 \n", "x".repeat(40))) {
            SocketChannel c = client();
            write(c, line);
            bad.add(c);
        }
        SocketChannel halfClosed = client();
        write(halfClosed, "CONNECT 50");
        halfClosed.shutdownOutput();
        bad.add(halfClosed);
        SocketChannel silent = client(); // says nothing: closed after the request timeout
        bad.add(silent);
        for (SocketChannel c : bad) {
            assertEquals(null, readLine(c), "closed without OK");
        }
        assertEquals(null, guest.poll(QUIET), "no REQUEST reached the guest");
        assertAlive();
    }

    @Test
    void bytesAfterTheConnectLineBelongToTheStream() throws Exception {
        SocketChannel c = client();
        write(c, "CONNECT 5000\nearly");
        Packet request = next();
        guest.send(GUEST_PORT, request.srcPort(), OP_RESPONSE, 0, 0, new byte[0]);
        assertEquals("OK " + request.srcPort() + "\n", readLine(c));
        Packet data = next();
        assertEquals("early", new String(data.payload(), StandardCharsets.US_ASCII));
    }

    @Test
    void clientClosingMidStreamDeliversWhatItSentThenShutsDown() throws Exception {
        Bridged b = bridge(GUEST_PORT);
        byte[] sent = new byte[100_000];
        new java.util.Random(7).nextBytes(sent);
        write(b.client(), sent);
        b.client().close();
        ByteBuffer got = ByteBuffer.allocate(sent.length);
        Packet p;
        int fwd = 0;
        while ((p = next()).op() == OP_RW) {
            got.put(p.payload());
            fwd += p.payload().length;
            guest.send(GUEST_PORT, b.hostPort(), OP_CREDIT_UPDATE, 0, fwd, new byte[0]);
        }
        assertEquals(OP_SHUTDOWN, p.op(), p.toString());
        assertEquals(sent.length, got.position());
        assertArrayEquals(sent, got.array());
        guest.send(GUEST_PORT, b.hostPort(), OP_RST, 0, fwd, new byte[0]);
        awaitConnections(0);
    }

    @Test
    void guestClosingDeliversItsLastBytesAndClosesTheClient() throws Exception {
        Bridged b = bridge(GUEST_PORT);
        guest.send(GUEST_PORT, b.hostPort(), OP_RW, 0, 0, "bye".getBytes(StandardCharsets.US_ASCII));
        guest.send(GUEST_PORT, b.hostPort(), OP_SHUTDOWN, VsockHeader.SHUTDOWN_BOTH, 0, new byte[0]);
        assertEquals("bye", new String(readExactly(b.client(), 3), StandardCharsets.US_ASCII));
        assertEquals(-1, b.client().read(ByteBuffer.allocate(1)), "end of stream after the guest closed");
        Packet answer = next();
        assertEquals(OP_SHUTDOWN, answer.op(), answer.toString());
        assertEquals(VsockHeader.SHUTDOWN_BOTH, answer.flags());
        awaitConnections(0);
    }

    @Test
    void aClientThatVanishesWhileTheGuestSendsEndsOnlyItsConnection() throws Exception {
        Bridged b = bridge(GUEST_PORT);
        b.client().close();
        byte[] chunk = new byte[4096];
        int endings = 0;
        for (int i = 0; i < 40 && endings == 0; i++) {
            guest.send(GUEST_PORT, b.hostPort(), OP_RW, 0, 0, chunk); // EPIPE, or the HUP is seen first
            Packet p;
            while ((p = guest.poll(Duration.ZERO)) != null) {
                if (p.op() == OP_RST || p.op() == OP_SHUTDOWN) {
                    endings++;
                }
            }
        }
        if (endings == 0) {
            Packet p = next();
            assertTrue(p.op() == OP_RST || p.op() == OP_SHUTDOWN, p.toString());
        }
        guest.send(GUEST_PORT, b.hostPort(), OP_RST, 0, 0, new byte[0]); // the guest's side is gone too
        while (guest.poll(QUIET) != null) {
            // whatever the device still sent for the old connection
        }
        awaitConnections(0);
        assertAlive();
    }

    @Test
    void guestHalfCloseLetsTheClientKeepSending() throws Exception {
        Bridged b = bridge(GUEST_PORT);
        guest.send(GUEST_PORT, b.hostPort(), OP_SHUTDOWN, VsockHeader.SHUTDOWN_SEND, 0, new byte[0]);
        assertEquals(-1, b.client().read(ByteBuffer.allocate(1)), "the client sees the guest's end of sending");
        write(b.client(), "more");
        Packet p = next();
        assertEquals(OP_RW, p.op());
        assertEquals("more", new String(p.payload(), StandardCharsets.US_ASCII));
    }

    @Test
    void aClientThatNeverReadsGetsBackpressureAndTheHostBufferStaysWithinCredit() throws Exception {
        Bridged b = bridge(GUEST_PORT);
        byte[] chunk = new byte[60_000];
        long sent = 0;
        int fwd = 0; // the REQUEST said fwd_cnt 0
        long bufAlloc = VsockSettings.BUF_ALLOC;
        long idleSince = System.nanoTime();
        while (System.nanoTime() - idleSince < QUIET.toNanos()) {
            Packet p;
            while ((p = guest.poll(Duration.ZERO)) != null) {
                assertEquals(OP_CREDIT_UPDATE, p.op(), p.toString());
                fwd = p.fwdCnt();
                bufAlloc = p.bufAlloc();
            }
            long credit = bufAlloc - (sent - fwd);
            if (credit >= chunk.length) {
                guest.send(GUEST_PORT, b.hostPort(), OP_RW, 0, 0, chunk);
                sent += chunk.length;
                idleSince = System.nanoTime();
            } else {
                Thread.sleep(1);
            }
        }
        assertTrue(device.maxHostBuffered() > 0, "the device buffered what the client did not take");
        assertTrue(device.maxHostBuffered() <= VsockSettings.BUF_ALLOC,
                "host buffer " + device.maxHostBuffered() + " exceeds the credit " + VsockSettings.BUF_ALLOC);
        assertTrue(sent - fwd > VsockSettings.BUF_ALLOC - chunk.length, "the guest used up its credit");

        long before = guestLog.total();
        guest.send(GUEST_PORT, b.hostPort(), OP_RW, 0, 0, chunk); // beyond the credit
        Packet rst = next();
        assertEquals(OP_RST, rst.op(), rst.toString());
        assertTrue(guestLog.total() > before, "the overrun is logged");
        assertTrue(device.maxHostBuffered() <= VsockSettings.BUF_ALLOC);
        awaitConnections(0);
    }

    @Test
    void aSlowReaderGetsEverythingOnceItReads() throws Exception {
        Bridged b = bridge(GUEST_PORT);
        byte[] all = new byte[3 << 20];
        new java.util.Random(11).nextBytes(all);
        ByteBuffer received = ByteBuffer.allocate(all.length);
        Thread slow = new Thread(() -> {
            try {
                Thread.sleep(300);
                while (received.hasRemaining()) {
                    if (b.client().read(received) < 0) {
                        return;
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the assertion below reports the shortfall
            }
        });
        slow.start();
        int sent = 0;
        int fwd = 0;
        long until = System.nanoTime() + WAIT.toNanos();
        while (sent < all.length && System.nanoTime() < until) {
            Packet p;
            while ((p = guest.poll(Duration.ZERO)) != null) {
                fwd = p.fwdCnt();
            }
            int n = Math.min(60_000, all.length - sent);
            if (VsockSettings.BUF_ALLOC - (sent - fwd) >= n) {
                guest.send(GUEST_PORT, b.hostPort(), OP_RW, 0, 0, java.util.Arrays.copyOfRange(all, sent, sent + n));
                sent += n;
            } else {
                Thread.yield();
            }
        }
        slow.join(WAIT.toMillis());
        assertEquals(all.length, received.position());
        assertArrayEquals(all, received.array());
        assertTrue(device.maxHostBuffered() <= VsockSettings.BUF_ALLOC);
    }

    @Test
    void sixtyFourConcurrentConnectionsKeepTheirStreamsApart() throws Exception {
        int n = 64;
        List<SocketChannel> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SocketChannel c = client();
            write(c, "CONNECT " + (6000 + i) + "\n");
            clients.add(c);
        }
        Map<Long, Long> hostPortOfGuestPort = new HashMap<>();
        while (hostPortOfGuestPort.size() < n) {
            Packet p = next();
            assertEquals(OP_REQUEST, p.op());
            hostPortOfGuestPort.put(p.dstPort(), p.srcPort());
            guest.send(p.dstPort(), p.srcPort(), OP_RESPONSE, 0, 0, new byte[0]);
        }
        assertEquals(n, new HashSet<>(hostPortOfGuestPort.values()).size(), "distinct host ports");
        for (int i = 0; i < n; i++) {
            long hostPort = hostPortOfGuestPort.get(6000L + i);
            assertEquals("OK " + hostPort + "\n", readLine(clients.get(i)));
            write(clients.get(i), "client " + i);
        }
        // The guest echoes each connection's bytes back, prefixed with its port.
        Set<Long> echoed = new HashSet<>();
        while (echoed.size() < n) {
            Packet p = next();
            assertEquals(OP_RW, p.op(), p.toString());
            long i = p.dstPort() - 6000;
            assertEquals("client " + i, new String(p.payload(), StandardCharsets.US_ASCII));
            guest.send(p.dstPort(), p.srcPort(), OP_RW, 0, p.payload().length,
                    ("echo " + p.dstPort()).getBytes(StandardCharsets.US_ASCII));
            echoed.add(p.dstPort());
        }
        for (int i = 0; i < n; i++) {
            String expected = "echo " + (6000 + i);
            assertEquals(expected, new String(readExactly(clients.get(i), expected.length()),
                    StandardCharsets.US_ASCII));
        }
        awaitConnections(n);
        for (SocketChannel c : clients) {
            c.close();
        }
    }

    // ---- connections the guest opens ----

    @Test
    void guestConnectionReachesTheProgramOnSocketUnderscorePort() throws Exception {
        Path target = Path.of(socket + "_7000");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(target));
            guest.send(1234, 7000, OP_REQUEST, 0, 0, new byte[0]);
            Packet response = next();
            assertEquals(OP_RESPONSE, response.op(), response.toString());
            assertEquals(7000, response.srcPort());
            assertEquals(1234, response.dstPort());
            try (SocketChannel accepted = server.accept()) {
                guest.send(1234, 7000, OP_RW, 0, 0, "ping".getBytes(StandardCharsets.US_ASCII));
                assertEquals("ping", new String(readExactly(accepted, 4), StandardCharsets.US_ASCII));
                write(accepted, "pong");
                Packet pong = next();
                assertEquals("pong", new String(pong.payload(), StandardCharsets.US_ASCII));
            }
            Packet closed = next();
            assertEquals(OP_SHUTDOWN, closed.op(), "the program closed its end: " + closed);
            assertEquals(1234, closed.dstPort());
            guest.send(1234, 7000, OP_RST, 0, 0, new byte[0]);
        }
        guest.send(1235, 7001, OP_REQUEST, 0, 0, new byte[0]);
        Packet rst = next();
        assertEquals(OP_RST, rst.op(), "nothing listens on " + socket + "_7001");
        assertEquals(1235, rst.dstPort());
    }

    @Test
    void readyHandshakeOnPort9000() throws Exception {
        guest.send(40000, 9000, OP_REQUEST, 0, 0, new byte[0]);
        assertEquals(OP_RESPONSE, next().op());
        assertEquals(0, readies.get(), "not ready before the byte");
        guest.send(40000, 9000, OP_RW, 0, 0, new byte[] {(byte) 0xB7});
        Packet answer = next();
        assertEquals(OP_RW, answer.op());
        assertArrayEquals(new byte[] {(byte) 0xB7}, answer.payload());
        // The listener hears right after the answer is published, so the guest may see the answer first.
        long bound = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (readies.get() == 0 && System.nanoTime() < bound) {
            Thread.sleep(1);
        }
        assertEquals(1, readies.get(), "ready once the answer is out");
        guest.send(40000, 9000, OP_SHUTDOWN, VsockHeader.SHUTDOWN_BOTH, 1, new byte[0]);
        assertEquals(OP_SHUTDOWN, next().op());
        awaitConnections(0);
        // A second handshake is answered but the listener hears only once.
        guest.send(40001, 9000, OP_REQUEST, 0, 0, new byte[0]);
        assertEquals(OP_RESPONSE, next().op());
        guest.send(40001, 9000, OP_RW, 0, 0, new byte[] {(byte) 0xB7});
        assertArrayEquals(new byte[] {(byte) 0xB7}, next().payload());
        assertEquals(1, readies.get());
        assertTrue(wakeups.get() > 0, "the driver wants wake-ups, so used buffers woke it");
    }

    // ---- a hostile guest ----

    @Test
    void hostilePacketsAreLoggedAndTheDeviceLivesOn() throws Exception {
        long before = guestLog.total();
        byte[] three = {1, 2, 3};
        guest.sendRaw(99, VsockHeader.HOST_CID, 1, GUEST_PORT, 0, 1, OP_REQUEST, 0, 0, 0, new byte[0]); // src cid
        guest.sendRaw(TestGuestDriver.CID, 3, 1, GUEST_PORT, 0, 1, OP_REQUEST, 0, 0, 0, new byte[0]); // dst cid
        guest.sendRaw(TestGuestDriver.CID, 2, 1, 7000, 10, 1, OP_RW, 0, 0, 0, three); // len says 10
        guest.sendRaw(TestGuestDriver.CID, 2, 1, 7000, 3, 2, OP_RW, 0, 0, 0, three); // type 2 (seqpacket)
        guest.sendRaw(TestGuestDriver.CID, 2, 1, 7000, 0, 1, 99, 0, 0, 0, new byte[0]); // op 99
        guest.sendRaw(TestGuestDriver.CID, 2, 1, 7000, 0xFFFF_FFFFL, 1, OP_RW, 0, 0, 0, three); // huge len
        guest.sendRaw(TestGuestDriver.CID, 2, 1, 7000, 3, 1, OP_RW, 0, 0, 0, three); // unknown connection
        Set<Integer> answers = new HashSet<>();
        Packet p;
        while ((p = guest.poll(QUIET)) != null) {
            answers.add(p.op());
        }
        assertEquals(Set.of(OP_RST), answers, "only RSTs answer (type 2, op 99, unknown connection)");
        long logged = guestLog.total() - before;
        assertTrue(logged >= 6, "each malformed packet is logged: " + logged);
        assertEquals(0, mmio.status() & DEVICE_NEEDS_RESET, "malformed packets do not break the device");
        assertAlive();
    }

    @Test
    void aRequestFloodStopsAtTheConnectionLimit() throws Exception {
        // The test settings allow 128 connections; the handshake port needs no host socket.
        int rsts = 0;
        int responses = 0;
        for (int i = 0; i < 140; i++) {
            guest.send(20000 + i, 9000, OP_REQUEST, 0, 0, new byte[0]);
            Packet p = next();
            if (p.op() == OP_RST) {
                rsts++;
            } else {
                assertEquals(OP_RESPONSE, p.op());
                responses++;
            }
        }
        assertEquals(128, responses);
        assertEquals(12, rsts);
        awaitConnections(128);
    }

    @Test
    void aBadChainPutsTheDeviceIntoNeedsResetAndAResetBringsItBack() throws Exception {
        Bridged b = bridge(GUEST_PORT);
        long loggedBefore = guestLog.total();
        guest.sendChainWithWritableDescriptor();
        long until = System.nanoTime() + WAIT.toNanos();
        while ((mmio.status() & DEVICE_NEEDS_RESET) == 0 && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertEquals(DEVICE_NEEDS_RESET, mmio.status() & DEVICE_NEEDS_RESET, "the transport set DEVICE_NEEDS_RESET");
        assertTrue(guestLog.total() > loggedBefore, "the reason is logged");
        assertEquals(null, readLine(b.client()), "every connection is reset with the device");
        awaitConnections(0);

        guest = guest.reinitialise(); // the driver resets (Status 0) and sets the device up again
        guest.setUp(mmio);
        guest.postRxBuffers();
        guest.send(1, 1, VsockHeader.OP_CREDIT_REQUEST, 0, 0, new byte[0]);
        assertEquals(OP_RST, guest.expect(WAIT).op());
        assertAlive();
    }

    @Test
    void aGuestThatNeverAnswersARequestIsResetAndTheClientClosed() throws Exception {
        SocketChannel c = client();
        write(c, "CONNECT 5002\n");
        Packet request = next();
        assertEquals(OP_REQUEST, request.op());
        assertEquals(null, readLine(c), "closed without OK after the request timeout");
        Packet rst = next();
        assertEquals(OP_RST, rst.op(), rst.toString());
        assertEquals(request.srcPort(), rst.srcPort());
        awaitConnections(0);
    }

    @Test
    void anUnansweredShutdownEndsInRstAfterTheTimeout() throws Exception {
        Bridged b = bridge(GUEST_PORT);
        b.client().close();
        Packet shutdown = next();
        assertEquals(OP_SHUTDOWN, shutdown.op());
        Packet rst = next(); // the guest does not answer
        while (rst.op() == OP_SHUTDOWN) { // SHUTDOWN(2) then (3) when EOF was read before the HUP was seen
            rst = next();
        }
        assertEquals(OP_RST, rst.op(), rst.toString());
        assertEquals(b.hostPort(), rst.srcPort());
        awaitConnections(0);
    }

    @Test
    void anIdleDeviceAsksForNotificationsAndCountsEveryOne() throws Exception {
        Bridged b = bridge(GUEST_PORT);
        for (int i = 0; i < 20; i++) {
            Thread.sleep(20); // let the device fall asleep, so the next packet needs a notification
            assertTrue(!guest.txNotifySuppressed(), "an idle device clears NO_NOTIFY before it sleeps");
            guest.send(GUEST_PORT, b.hostPort(), OP_RW, 0, 0, new byte[] {(byte) i});
            assertEquals(i, readExactly(b.client(), 1)[0]);
        }
        assertTrue(guest.notifies() >= 20, "the driver kicked for each packet: " + guest.notifies());
        long until = System.nanoTime() + WAIT.toNanos();
        while (device.notifications() < guest.notifies() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertEquals(guest.notifies(), device.notifications(), "every eventfd signal is counted");
    }

    // ---- the socket file ----

    @Test
    void theSocketIsMode0660AndGoneAfterClose() throws Exception {
        assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(socket)));
        SocketChannel c = client();
        device.close();
        assertEquals(-1, c.read(ByteBuffer.allocate(1)), "clients are closed");
        assertTrue(!Files.exists(socket), "socket file removed");
        device = null;
    }

    @Test
    void aStaleSocketIsReplacedButALiveOneOrAFileIsAnError() throws Exception {
        Path stale = dir.resolve("stale.sock");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(stale));
        dead.close(); // the file stays, nobody listens
        assertTrue(Files.exists(stale));
        try (VsockDevice second = new VsockDevice(memory, 17, VsockSettings.of(stale, null), notifyFd,
                () -> { }, () -> { }, guestLog)) {
            second.start();
            try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(stale))) {
                assertNotNull(c);
            }
        }
        var live = org.junit.jupiter.api.Assertions.assertThrows(org.enclaveruntime.errors.EnclaveException.class,
                () -> new VsockDevice(memory, 17, VsockSettings.of(socket, null), notifyFd, () -> { }, () -> { },
                        guestLog));
        assertEquals(VsockErrors.SOCKET_PATH, live.code());
        assertTrue(live.getMessage().contains(socket.toString()), live.getMessage());
        Path file = dir.resolve("plain");
        Files.writeString(file, "x");
        var notSocket = org.junit.jupiter.api.Assertions.assertThrows(
                org.enclaveruntime.errors.EnclaveException.class,
                () -> new VsockDevice(memory, 17, VsockSettings.of(file, null), notifyFd, () -> { }, () -> { },
                        guestLog));
        assertEquals(VsockErrors.SOCKET_PATH, notSocket.code());
        assertTrue(notSocket.getMessage().contains(file.toString()) && notSocket.getMessage().contains("not a socket"));
        var badGroup = org.junit.jupiter.api.Assertions.assertThrows(
                org.enclaveruntime.errors.EnclaveException.class,
                () -> new VsockDevice(memory, 17, VsockSettings.of(dir.resolve("g.sock"), "no-such-group-here"),
                        notifyFd, () -> { }, () -> { }, guestLog));
        assertEquals(VsockErrors.SOCKET_GROUP, badGroup.code());
        assertTrue(!Files.exists(dir.resolve("g.sock")), "a failed start leaves no socket file");
    }
}
