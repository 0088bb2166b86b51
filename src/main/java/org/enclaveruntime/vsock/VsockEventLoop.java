package org.enclaveruntime.vsock;

import com.kenai.jffi.MemoryIO;
import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.devices.virtio.DescriptorChain;
import org.enclaveruntime.devices.virtio.Virtqueue;
import org.enclaveruntime.devices.virtio.VirtqueueException;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The vsock device's one thread: the virtqueues, the bridge's listening socket and every connection's
 * socket, all in one epoll (docs/vsock.md, "Design"). Everything here runs on that thread except the
 * mailbox methods ({@link #activate}, {@link #reset}, {@link #notified}, {@link #stop}).
 */
final class VsockEventLoop implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(VsockEventLoop.class);
    private static final LibC LIBC = LibC.INSTANCE;
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    static final int RX = 0;
    static final int TX = 1;
    static final long HANDSHAKE_PORT = 9000;
    static final int HANDSHAKE_BYTE = 0xB7;
    /** Host ports the bridge hands its clients, from 2^30 up (Firecracker's range). */
    static final long FIRST_CLIENT_PORT = 1L << 30;

    private static final long TOKEN_NOTIFY = -1;
    private static final long TOKEN_WAKE = -2;
    private static final long TOKEN_LISTENER = -3;
    private static final int SOCKET_EVENTS = Native.EPOLLIN | Native.EPOLLOUT | Native.EPOLLRDHUP | Native.EPOLLET;
    /** Chains taken from the tx queue before the sockets get their turn again. */
    private static final int TX_BUDGET = 64;
    private static final int MAX_SEGMENTS = 256;
    /** The longest bridge request line: "CONNECT 4294967295\n" is 19 bytes. */
    private static final int MAX_LINE = 32;

    private final long guestCid;
    private final VsockSettings settings;
    private final GuestWaker waker;
    private final ReadyListener onReady;
    private final GuestLog guestLog;
    private final EventFd notify;
    private final EventFd wake;
    private final Epoll epoll;
    private final int listener;
    private final ConnectionTable table;
    private final FarewellQueue farewells;

    private final VsockHeader in = new VsockHeader();
    private final VsockHeader out = new VsockHeader();
    private final DescriptorChain txChain = new DescriptorChain(MAX_SEGMENTS);
    private final DescriptorChain rxChain = new DescriptorChain(MAX_SEGMENTS);
    private boolean rxHeld;
    private final ByteBuffer[] views = new ByteBuffer[MAX_SEGMENTS];
    private final long iovecs = MEMORY.allocateMemory((long) MAX_SEGMENTS * Native.IOVEC_SIZE, true);
    private final long scratch = MEMORY.allocateMemory(64, true);
    private final ByteBuffer oneByte = ByteBuffer.allocate(1);
    private final boolean[] inProgress = new boolean[1];

    /** Connections with something for the guest, FIFO (intrusive, so queueing allocates nothing). */
    private Connection sendHead;
    private Connection sendTail;
    private long nextDeadline = Long.MAX_VALUE;
    private long nextClientPort = FIRST_CLIENT_PORT;
    private boolean readyTold;
    /** The handshake answer is in the held rx chain: tell the listener once the chain is used. */
    private boolean readyPending;

    private Virtqueue rxQueue;
    private Virtqueue txQueue;
    private boolean usedPublished;

    // The mailbox, written by vCPU threads and close().
    private Virtqueue[] pendingQueues;
    private boolean pendingActivate;
    private long resetRequests;
    private long resetsDone;
    private boolean stopRequested;
    private volatile Thread thread;
    private Consumer<String> onBroken;

    // Counters for tests and status.
    /** Counted on the event thread (eventfd) and on vCPU threads (QueueNotify exits). */
    private final AtomicLong notifications = new AtomicLong();
    private volatile int maxBuffered;
    private volatile int liveConnections;

    VsockEventLoop(long guestCid, VsockSettings settings, int notifyEventFd, GuestWaker waker, ReadyListener onReady,
                   GuestLog guestLog) throws IOException {
        this.guestCid = guestCid;
        this.settings = settings;
        this.waker = waker;
        this.onReady = onReady;
        this.guestLog = guestLog;
        this.table = new ConnectionTable(settings.maxConnections());
        this.farewells = new FarewellQueue(settings.maxConnections() * 2);
        this.notify = new EventFd(notifyEventFd);
        this.wake = EventFd.create();
        this.epoll = new Epoll(64);
        int fd;
        try {
            fd = UnixSockets.listen(settings.socket(), settings.group());
        } catch (RuntimeException e) {
            releaseNatives();
            throw e;
        }
        this.listener = fd;
        epoll.add(notify.fd(), Native.EPOLLIN, TOKEN_NOTIFY);
        epoll.add(wake.fd(), Native.EPOLLIN, TOKEN_WAKE);
        epoll.add(listener, Native.EPOLLIN, TOKEN_LISTENER);
    }

    // ---- the mailbox (any thread) ----

    synchronized void onBroken(Consumer<String> handler) {
        this.onBroken = handler;
    }

    synchronized void activate(Virtqueue[] queues) {
        pendingQueues = queues.clone();
        pendingActivate = true;
        wake.signal();
    }

    /**
     * Stops all use of the queues. From a vCPU thread this only hands the reset over: the transport calls it
     * under a lock the event thread may be waiting for (in needsReset), so it must not wait. Until the event
     * thread takes it, that thread may still finish a packet on the old rings; those lie in guest RAM and are
     * checked like any others, so the late write can only confuse the guest that reset its own device.
     */
    void reset() {
        if (Thread.currentThread() == thread) {
            resetDevice();
            return;
        }
        synchronized (this) {
            pendingActivate = false;
            pendingQueues = null;
            resetRequests++;
        }
        wake.signal();
    }

    void notified() {
        notifications.incrementAndGet();
        wake.signal();
    }

    long notifications() {
        return notifications.get();
    }

    int maxBuffered() {
        return maxBuffered;
    }

    int connections() {
        return liveConnections;
    }

    void start() {
        Thread t = new Thread(this, "vsock");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    void stop() {
        synchronized (this) {
            stopRequested = true;
        }
        wake.signal();
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- the event thread ----

    @Override
    public void run() {
        try {
            loop();
        } catch (IOException | RuntimeException e) {
            LOG.error("the vsock event thread failed; the enclave's vsock is gone", e);
        } finally {
            shutdown();
        }
    }

    private void loop() throws IOException {
        boolean busy = false;
        while (true) {
            if (mailbox()) {
                return;
            }
            int timeout = 0;
            if (!busy) {
                timeout = timeoutMs();
                if (prepareToSleep()) {
                    timeout = 0;
                }
            }
            int n = epoll.await(timeout);
            if (!busy) {
                suppress(true);
            }
            busy = false;
            for (int i = 0; i < n; i++) {
                busy |= dispatch(epoll.token(i), epoll.mask(i));
            }
            if (nextDeadline <= System.nanoTime()) {
                expire();
            }
            busy |= processTx();
            busy |= processRx();
            if (usedPublished) {
                usedPublished = false;
                wakeGuest();
            }
            liveConnections = table.size();
        }
    }

    /** Takes what vCPU threads asked for; true when the loop must end. */
    private boolean mailbox() {
        Virtqueue[] queues = null;
        boolean doReset = false;
        long ticket;
        synchronized (this) {
            if (stopRequested) {
                return true;
            }
            ticket = resetRequests;
            if (resetsDone < ticket) {
                doReset = true;
            }
            if (pendingActivate) {
                queues = pendingQueues;
                pendingActivate = false;
                pendingQueues = null;
            }
        }
        if (doReset) {
            resetDevice();
            synchronized (this) {
                resetsDone = ticket;
            }
        }
        if (queues != null) {
            resetDevice();
            rxQueue = queues.length > RX ? queues[RX] : null;
            txQueue = queues.length > TX ? queues[TX] : null;
            if (rxQueue == null || txQueue == null) {
                guestLog.vsock("driver set DRIVER_OK without the rx or tx queue ({} rx, {} tx); device idle",
                        rxQueue == null ? 0 : 1, txQueue == null ? 0 : 1);
                rxQueue = txQueue = null;
            } else {
                suppress(true);
            }
        }
        return false;
    }

    private boolean active() {
        return txQueue != null;
    }

    /**
     * The sleeping half of the notification handshake: clear NO_NOTIFY, full fence, look at the avail rings
     * once more. True when there is work after all (do not sleep).
     */
    private boolean prepareToSleep() {
        if (!active()) {
            return false;
        }
        boolean needRx = needRx();
        txQueue.suppressNotifications(false);
        rxQueue.suppressNotifications(!needRx);
        VarHandle.fullFence();
        try {
            return txQueue.hasAvailable() || (needRx && !rxHeld && rxQueue.hasAvailable());
        } catch (VirtqueueException e) {
            broken(e.getMessage());
            return true;
        }
    }

    private void suppress(boolean on) {
        if (active()) {
            txQueue.suppressNotifications(on);
            rxQueue.suppressNotifications(on);
        }
    }

    private boolean needRx() {
        return sendHead != null || !farewells.isEmpty();
    }

    private int timeoutMs() {
        if (nextDeadline == Long.MAX_VALUE) {
            return -1;
        }
        long left = nextDeadline - System.nanoTime();
        return left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, left / 1_000_000 + 1);
    }

    private void wakeGuest() {
        if (active() && (rxQueue.driverWantsWakeups() || txQueue.driverWantsWakeups())) {
            waker.workPending();
        }
    }

    /** One epoll event; true when it made work. */
    private boolean dispatch(long token, int mask) {
        if (token == TOKEN_NOTIFY) {
            notifications.addAndGet(notify.drain());
            return active();
        }
        if (token == TOKEN_WAKE) {
            wake.drain();
            return active();
        }
        if (token == TOKEN_LISTENER) {
            acceptClients();
            return true;
        }
        Connection c = table.byToken(token);
        if (c == null || c.fd < 0) {
            return false;
        }
        if ((mask & (Native.EPOLLIN | Native.EPOLLRDHUP | Native.EPOLLHUP | Native.EPOLLERR)) != 0) {
            c.readable = true;
        }
        if ((mask & Native.EPOLLHUP) != 0) {
            c.hostHup = true;
        }
        if ((mask & (Native.EPOLLRDHUP | Native.EPOLLHUP)) != 0) {
            c.hostRdHup = true;
        }
        if ((mask & (Native.EPOLLOUT | Native.EPOLLHUP | Native.EPOLLERR)) != 0) {
            c.writable = true;
        }
        switch (c.state) {
            case AWAIT_LINE -> readLine(c);
            case AWAIT_RESPONSE -> {
                if (c.hostHup) {
                    LOG.debug("{}: the client left before the enclave answered", c);
                    resetConnection(c);
                }
            }
            case HOST_CONNECTING -> {
                if (c.writable) {
                    finishHostConnect(c);
                }
            }
            default -> {
                if (c.writable && c.buffer != null && !c.buffer.isEmpty()) {
                    flushToHost(c);
                }
                // Gone for good, and nothing left to read: EOF was read already (the HUP can come after it), or
                // the guest takes nothing more.
                if (c.fd >= 0 && c.hostHup && (c.hostEof || (c.peerShutdown & VsockHeader.SHUTDOWN_RCV) != 0)) {
                    hostGone(c);
                }
            }
        }
        enqueueIfWork(c);
        return true;
    }

    // ---- the bridge's clients ----

    private void acceptClients() {
        while (true) {
            int fd = LIBC.accept4(listener, Native.SOCK_NONBLOCK | Native.SOCK_CLOEXEC);
            if (fd < 0) {
                int errno = Native.errno();
                if (errno == Native.EINTR) {
                    continue;
                }
                if (errno != Native.EAGAIN) {
                    LOG.warn("accept on the vsock socket {}: {}", settings.socket(), Native.describe(errno));
                }
                return;
            }
            if (table.isFull()) {
                LOG.warn("vsock socket {}: {} connections already, a new client is closed", settings.socket(),
                        table.size());
                LIBC.close(fd);
                continue;
            }
            Connection c = table.open(fd);
            c.state = Connection.State.AWAIT_LINE;
            setDeadline(c, settings.requestTimeout().toNanos());
            int errno = epoll.add(fd, SOCKET_EVENTS, c.token());
            if (errno != 0) {
                LOG.warn("epoll_ctl for a vsock client: {}", Native.describe(errno));
                closeHost(c);
                table.remove(c);
            }
        }
    }

    /** Reads "CONNECT <port>\n" without taking a byte past the newline (those belong to the stream). */
    private void readLine(Connection c) {
        long n = LIBC.recv(c.fd, scratch, MAX_LINE, Native.MSG_PEEK);
        if (n < 0) {
            int errno = Native.errno();
            if (errno != Native.EAGAIN && errno != Native.EINTR) {
                dropClient(c, "failed: " + Native.describe(errno));
            }
            return;
        }
        if (n == 0) {
            dropClient(c, "closed before its CONNECT line");
            return;
        }
        byte[] line = new byte[(int) n];
        MEMORY.getByteArray(scratch, line, 0, line.length);
        int newline = -1;
        for (int i = 0; i < line.length; i++) {
            if (line[i] == '\n') {
                newline = i;
                break;
            }
        }
        if (newline < 0) {
            if (n >= MAX_LINE) {
                dropClient(c, "sent " + MAX_LINE + " bytes without a newline");
            } else if (c.hostRdHup) {
                dropClient(c, "closed before the end of its CONNECT line");
            }
            return; // the rest of the line comes with the next EPOLLIN edge
        }
        LIBC.read(c.fd, scratch, newline + 1);
        long port = parseConnect(line, newline);
        if (port < 0) {
            dropClient(c, "sent a malformed request (expected \"CONNECT <port>\\n\")");
            return;
        }
        if (!active()) {
            dropClient(c, "asked for port " + port + " before the enclave's vsock driver was ready");
            return;
        }
        c.hostPort = allocateClientPort();
        c.guestPort = port;
        if (table.find(c.hostPort, c.guestPort) != null) {
            dropClient(c, "got a host port in use");
            return;
        }
        table.index(c);
        c.state = Connection.State.AWAIT_RESPONSE;
        setDeadline(c, settings.requestTimeout().toNanos());
        c.pending |= Connection.SEND_REQUEST;
    }

    /** The port of "CONNECT <decimal u32>" in {@code line[0, end)}, or -1. */
    static long parseConnect(byte[] line, int end) {
        byte[] prefix = "CONNECT ".getBytes(StandardCharsets.US_ASCII);
        if (end <= prefix.length || end > prefix.length + 10) {
            return -1;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (line[i] != prefix[i]) {
                return -1;
            }
        }
        long port = 0;
        for (int i = prefix.length; i < end; i++) {
            int d = line[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            port = port * 10 + d;
        }
        return port <= 0xFFFF_FFFFL ? port : -1;
    }

    private long allocateClientPort() {
        for (long tries = 0; tries <= settings.maxConnections(); tries++) {
            long port = nextClientPort;
            nextClientPort = nextClientPort == 0xFFFF_FFFFL ? FIRST_CLIENT_PORT : nextClientPort + 1;
            if (!table.hostPortInUse(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free vsock host port among " + settings.maxConnections() + " tried");
    }

    private void dropClient(Connection c, String why) {
        LOG.debug("vsock client {}; closing it", why);
        closeHost(c);
        forget(c);
    }

    private void answerClient(Connection c) {
        byte[] ok = ("OK " + c.hostPort + "\n").getBytes(StandardCharsets.US_ASCII);
        MEMORY.putByteArray(scratch, ok, 0, ok.length);
        long n = LIBC.write(c.fd, scratch, ok.length);
        if (n != ok.length) {
            resetConnection(c); // a fresh socket takes 20 bytes at once; anything else means the client is gone
            return;
        }
        c.state = Connection.State.ESTABLISHED;
        c.deadline = 0;
    }

    // ---- connections the guest opens to host port P: <socket>_P ----

    private void guestConnects(long hostPort, long guestPort) {
        if (table.isFull()) {
            guestLog.vsock("REQUEST to host port {} refused: connection limit reached ({} connections)", hostPort,
                    table.size());
            farewells.add(hostPort, guestPort, VsockHeader.OP_RST, 0);
            return;
        }
        if (hostPort == HANDSHAKE_PORT) {
            Connection c = table.open(-1);
            c.hostPort = hostPort;
            c.guestPort = guestPort;
            c.handshake = true;
            c.state = Connection.State.ESTABLISHED;
            c.pending |= Connection.SEND_RESPONSE;
            peerCredit(c);
            table.index(c);
            enqueueIfWork(c);
            return;
        }
        byte[] path = UnixSockets.pathBytes(Path.of(settings.socket() + "_" + hostPort));
        int fd = path == null ? -Native.ENOENT : UnixSockets.connect(path, inProgress);
        if (fd < 0) {
            LOG.debug("enclave connection to host port {}: {}", hostPort, Native.describe(-fd));
            farewells.add(hostPort, guestPort, VsockHeader.OP_RST, 0);
            return;
        }
        Connection c = table.open(fd);
        c.hostPort = hostPort;
        c.guestPort = guestPort;
        peerCredit(c);
        table.index(c);
        if (epoll.add(fd, SOCKET_EVENTS, c.token()) != 0) {
            resetConnection(c);
            return;
        }
        if (inProgress[0]) {
            c.state = Connection.State.HOST_CONNECTING;
            setDeadline(c, settings.requestTimeout().toNanos());
        } else {
            c.state = Connection.State.ESTABLISHED;
            c.pending |= Connection.SEND_RESPONSE;
            enqueueIfWork(c);
        }
    }

    private void finishHostConnect(Connection c) {
        int error = UnixSockets.pendingError(c.fd, scratch);
        if (error != 0) {
            LOG.debug("enclave connection to host port {}: {}", c.hostPort, Native.describe(error));
            resetConnection(c);
            return;
        }
        c.state = Connection.State.ESTABLISHED;
        c.deadline = 0;
        c.pending |= Connection.SEND_RESPONSE;
    }

    // ---- the tx queue: packets from the guest ----

    private boolean processTx() {
        if (!active()) {
            return false;
        }
        int done = 0;
        try {
            while (done < TX_BUDGET && txQueue != null && txQueue.pop(txChain)) {
                done++;
                if (txChain.writableLength() != 0) {
                    broken("tx chain " + txChain.head() + " has device-writable descriptors");
                    return true;
                }
                handlePacket(txChain);
                if (txQueue != null) {
                    txQueue.pushUsed(txChain.head(), 0);
                    usedPublished = true;
                }
            }
        } catch (VirtqueueException e) {
            broken(e.getMessage());
        }
        return done > 0;
    }

    private void handlePacket(DescriptorChain chain) {
        long total = chain.readableLength();
        if (total < VsockHeader.SIZE) {
            guestLog.vsock("tx packet of {} bytes is shorter than the {}-byte header; dropped", total,
                    VsockHeader.SIZE);
            return;
        }
        chain.read(0, in.buffer());
        if (in.srcCid() != guestCid || in.dstCid() != VsockHeader.HOST_CID) {
            guestLog.vsock("tx packet from cid {} to cid {} is not from this enclave to the host; dropped",
                    in.srcCid(), in.dstCid());
            return;
        }
        long hostPort = in.dstPort();
        long guestPort = in.srcPort();
        Connection c = table.find(hostPort, guestPort);
        if (in.len() != total - VsockHeader.SIZE) {
            guestLog.vsock("tx packet says len {} but carries {} payload bytes; dropped (connection reset)",
                    in.len(), total - VsockHeader.SIZE);
            if (c != null) {
                resetConnection(c);
            }
            return;
        }
        int op = in.op();
        if (in.type() != VsockHeader.TYPE_STREAM || op < VsockHeader.OP_REQUEST
                || op > VsockHeader.OP_CREDIT_REQUEST) {
            guestLog.vsock("tx packet of type {} op {} is not a stream packet this device knows; answered RST",
                    in.type(), op);
            if (c != null) {
                resetConnection(c);
            } else if (op != VsockHeader.OP_RST) {
                farewells.add(hostPort, guestPort, VsockHeader.OP_RST, 0);
            }
            return;
        }
        if (c == null) {
            if (op == VsockHeader.OP_REQUEST) {
                guestConnects(hostPort, guestPort);
            } else if (op != VsockHeader.OP_RST) {
                farewells.add(hostPort, guestPort, VsockHeader.OP_RST, 0);
            }
            return;
        }
        peerCredit(c);
        switch (op) {
            case VsockHeader.OP_REQUEST -> {
                guestLog.vsock("REQUEST for host port {} from enclave port {}, which is connected; reset", hostPort,
                        guestPort);
                resetConnection(c);
            }
            case VsockHeader.OP_RESPONSE -> {
                if (c.state == Connection.State.AWAIT_RESPONSE) {
                    answerClient(c);
                } else {
                    guestLog.vsock("RESPONSE on host port {} / enclave port {} that asked for none; reset",
                            hostPort, guestPort);
                    resetConnection(c);
                }
            }
            case VsockHeader.OP_RST -> {
                closeHost(c);
                forget(c);
            }
            case VsockHeader.OP_SHUTDOWN -> guestShutdown(c, in.flags() & VsockHeader.SHUTDOWN_BOTH);
            case VsockHeader.OP_RW -> guestData(c, chain, (int) in.len());
            case VsockHeader.OP_CREDIT_UPDATE -> {
                // the credit it carries was taken above
            }
            case VsockHeader.OP_CREDIT_REQUEST -> c.pending |= Connection.SEND_CREDIT_UPDATE;
            default -> throw new IllegalStateException("op " + op);
        }
        if (table.isIndexed(c)) {
            enqueueIfWork(c);
        }
    }

    private void peerCredit(Connection c) {
        c.peerBufAlloc = in.bufAlloc();
        c.peerFwdCnt = in.fwdCnt();
    }

    private void guestData(Connection c, DescriptorChain chain, int len) {
        if (len == 0) {
            return;
        }
        if (c.state == Connection.State.DRAINING || c.state == Connection.State.CLOSING) {
            c.rxCnt += len;
            consumed(c, len); // the guest said it sends no more, or the host side is gone: dropped
            return;
        }
        if (c.state != Connection.State.ESTABLISHED) {
            guestLog.vsock("RW on host port {} / enclave port {} before the connection was established; reset",
                    c.hostPort, c.guestPort);
            resetConnection(c);
            return;
        }
        if ((long) c.unforwarded() + len > settings.bufAlloc()) {
            guestLog.vsock("enclave sent {} bytes past its credit on host port {}; connection reset",
                    (long) c.unforwarded() + len - settings.bufAlloc(), c.hostPort);
            resetConnection(c);
            return;
        }
        c.rxCnt += len;
        if (c.handshake) {
            oneByte.clear();
            chain.read(VsockHeader.SIZE, oneByte);
            if ((oneByte.get(0) & 0xff) == HANDSHAKE_BYTE) {
                c.pending |= Connection.SEND_HANDSHAKE_REPLY;
            }
            consumed(c, len);
            return;
        }
        if (c.fd < 0 || c.hostWriteShut) {
            consumed(c, len); // nobody on the host reads any more: dropped, but credited back
            return;
        }
        int written = 0;
        if (c.buffer == null || c.buffer.isEmpty()) {
            long n = writeFromChain(c.fd, chain, len);
            if (n < 0) {
                hostFailed(c, (int) -n);
                return;
            }
            written = (int) n;
        }
        if (written < len) {
            if (c.buffer == null) {
                c.buffer = new HostBuffer(settings.bufAlloc());
            }
            c.buffer.append(chain, VsockHeader.SIZE + (long) written, len - written);
            maxBuffered = Math.max(maxBuffered, c.buffer.size());
            c.writable = false;
        }
        consumed(c, written);
    }

    /** Gathering write of payload bytes straight from guest RAM; bytes written, or -errno. */
    private long writeFromChain(int fd, DescriptorChain chain, int len) {
        int count = chain.readableViews(VsockHeader.SIZE, len, views);
        fillIovecs(count);
        while (true) {
            long n = LIBC.writev(fd, iovecs, count);
            if (n >= 0) {
                return n;
            }
            int errno = Native.errno();
            if (errno == Native.EAGAIN) {
                return 0;
            }
            if (errno != Native.EINTR) {
                return -errno;
            }
        }
    }

    private void fillIovecs(int count) {
        for (int i = 0; i < count; i++) {
            ByteBuffer v = views[i];
            long at = iovecs + (long) i * Native.IOVEC_SIZE;
            MEMORY.putLong(at, MEMORY.getDirectBufferAddress(v) + v.position());
            MEMORY.putLong(at + 8, v.remaining());
            views[i] = null;
        }
    }

    private void flushToHost(Connection c) {
        long n = c.buffer.flushTo(c.fd);
        if (n < 0) {
            hostFailed(c, (int) -n);
            return;
        }
        consumed(c, (int) n);
        if (!c.buffer.isEmpty()) {
            c.writable = false;
            return;
        }
        closeIfDone(c);
    }

    /** {@code n} more bytes left the host buffer for good: credit them back when half the buffer is free again. */
    private void consumed(Connection c, int n) {
        c.fwdCnt += n;
        if (c.fwdCnt - c.fwdCntTold >= settings.bufAlloc() / 2) {
            c.pending |= Connection.SEND_CREDIT_UPDATE;
        }
    }

    private void guestShutdown(Connection c, int flags) {
        c.peerShutdown |= flags;
        if (c.state == Connection.State.CLOSING) {
            if (c.peerShutdown == VsockHeader.SHUTDOWN_BOTH) {
                forget(c); // both sides said SHUTDOWN(both): closed
            }
            return;
        }
        if (c.state == Connection.State.AWAIT_RESPONSE || c.state == Connection.State.HOST_CONNECTING) {
            resetConnection(c);
            return;
        }
        if (c.peerShutdown == VsockHeader.SHUTDOWN_BOTH && c.fd >= 0 && c.buffer != null && !c.buffer.isEmpty()) {
            c.state = Connection.State.DRAINING; // what the guest sent still goes out, for 2 s at most
            setDeadline(c, settings.shutdownTimeout().toNanos());
            return;
        }
        closeIfDone(c);
    }

    /**
     * After a guest SHUTDOWN or a drained host buffer: passes the guest's end of sending on to the host socket,
     * and closes the connection once both directions are finished.
     */
    private void closeIfDone(Connection c) {
        if (c.buffer != null && !c.buffer.isEmpty()) {
            return;
        }
        if ((c.peerShutdown & VsockHeader.SHUTDOWN_SEND) != 0) {
            shutHostWrite(c);
        }
        if (c.peerShutdown == VsockHeader.SHUTDOWN_BOTH || c.handshake && c.peerShutdown != 0) {
            finishGuestClose(c);
        } else if (c.hostEof && (c.peerShutdown & VsockHeader.SHUTDOWN_SEND) != 0) {
            closeBothWays(c);
        }
    }

    /** The guest closed and everything it sent is out: answer SHUTDOWN(both) and forget the connection. */
    private void finishGuestClose(Connection c) {
        closeHost(c);
        forget(c);
        farewells.add(c.hostPort, c.guestPort, VsockHeader.OP_SHUTDOWN, VsockHeader.SHUTDOWN_BOTH);
    }

    private void shutHostWrite(Connection c) {
        if (c.fd >= 0 && !c.hostWriteShut) {
            LIBC.shutdown(c.fd, Native.SHUT_WR);
            c.hostWriteShut = true;
        }
    }

    /** EPIPE, ECONNRESET or another error on the host socket: close it and reset the guest's side. */
    private void hostFailed(Connection c, int errno) {
        LOG.debug("{}: host socket failed: {}", c, Native.describe(errno));
        resetConnection(c);
    }

    /** The host socket is closed for good. */
    private void hostGone(Connection c) {
        if (c.state == Connection.State.DRAINING) {
            finishGuestClose(c);
        } else {
            closeBothWays(c);
        }
    }

    /** Closes the host socket, tells the guest SHUTDOWN(both) and waits 2 s for its answer. */
    private void closeBothWays(Connection c) {
        closeHost(c);
        if (c.buffer != null) {
            c.buffer.clear();
        }
        c.state = Connection.State.CLOSING;
        c.shutdownToSend = VsockHeader.SHUTDOWN_BOTH;
        c.pending |= Connection.SEND_SHUTDOWN;
        setDeadline(c, settings.shutdownTimeout().toNanos());
    }

    // ---- the rx queue: packets to the guest ----

    private boolean processRx() {
        if (!active() || !needRx()) {
            return false;
        }
        boolean did = false;
        try {
            while (needRx() && rxQueue != null) {
                if (!rxHeld) {
                    if (!rxQueue.pop(rxChain)) {
                        break;
                    }
                    if (rxChain.readableLength() != 0 || rxChain.writableLength() <= VsockHeader.SIZE) {
                        broken("rx chain " + rxChain.head() + " is not one writable buffer of more than 44 bytes");
                        return true;
                    }
                    rxHeld = true;
                }
                int written = nextPacket();
                if (written > 0) {
                    rxQueue.pushUsed(rxChain.head(), written);
                    rxHeld = false;
                    usedPublished = true;
                    did = true;
                    if (readyPending) {
                        readyPending = false;
                        tellReady();
                    }
                }
            }
        } catch (VirtqueueException e) {
            broken(e.getMessage());
        }
        return did;
    }

    /** Writes the next packet into the held rx chain: its length, or 0 when the connection had nothing after all. */
    private int nextPacket() {
        if (!farewells.isEmpty()) {
            out.set(guestCid, farewells.hostPort(), farewells.guestPort(), 0, farewells.op(), farewells.flags(),
                    0, 0);
            farewells.remove();
            return writeHeader(0);
        }
        Connection c = sendHead;
        sendHead = c.nextQueued;
        if (sendHead == null) {
            sendTail = null;
        }
        c.nextQueued = null;
        c.queued = false;
        if (!table.isIndexed(c)) {
            return 0;
        }
        int written = packetFor(c);
        if (table.isIndexed(c)) {
            enqueueIfWork(c);
        }
        return written;
    }

    private int packetFor(Connection c) {
        if ((c.pending & Connection.SEND_REQUEST) != 0) {
            c.pending &= ~Connection.SEND_REQUEST;
            return control(c, VsockHeader.OP_REQUEST, 0);
        }
        if ((c.pending & Connection.SEND_RESPONSE) != 0) {
            c.pending &= ~Connection.SEND_RESPONSE;
            return control(c, VsockHeader.OP_RESPONSE, 0);
        }
        if ((c.pending & Connection.SEND_HANDSHAKE_REPLY) != 0) {
            c.pending &= ~Connection.SEND_HANDSHAKE_REPLY;
            oneByte.clear();
            oneByte.put(0, (byte) HANDSHAKE_BYTE);
            rxChain.write(VsockHeader.SIZE, oneByte);
            c.txCnt += 1;
            header(c, VsockHeader.OP_RW, 0, 1);
            if (!readyTold) {
                readyPending = true;
            }
            return writeHeader(1);
        }
        if (c.wantsToSend()) {
            int n = readIntoChain(c);
            if (n > 0) {
                c.txCnt += n;
                header(c, VsockHeader.OP_RW, 0, n);
                return writeHeader(n);
            }
            if (n == 0) {
                c.hostEof = true;
                if (c.hostHup) {
                    closeBothWays(c); // the client is gone, not just done sending
                } else if ((c.peerShutdown & VsockHeader.SHUTDOWN_SEND) != 0) {
                    closeIfDone(c);
                } else {
                    c.shutdownToSend = VsockHeader.SHUTDOWN_SEND;
                    c.pending |= Connection.SEND_SHUTDOWN;
                }
            } else if (n != -Native.EAGAIN) {
                hostFailed(c, -n);
                return 0;
            }
        }
        if ((c.pending & Connection.SEND_SHUTDOWN) != 0) {
            c.pending &= ~Connection.SEND_SHUTDOWN;
            c.ownShutdown |= c.shutdownToSend;
            return control(c, VsockHeader.OP_SHUTDOWN, c.shutdownToSend);
        }
        if ((c.pending & Connection.SEND_CREDIT_UPDATE) != 0) {
            return control(c, VsockHeader.OP_CREDIT_UPDATE, 0);
        }
        return 0;
    }

    /** Scattering read from the host socket straight into the rx chain's payload: bytes, 0 at EOF, or -errno. */
    private int readIntoChain(Connection c) {
        long room = Math.min(rxChain.writableLength() - VsockHeader.SIZE, c.peerCredit());
        if (room <= 0) {
            return -Native.EAGAIN;
        }
        int count = rxChain.writableViews(VsockHeader.SIZE, room, views);
        fillIovecs(count);
        while (true) {
            long n = LIBC.readv(c.fd, iovecs, count);
            if (n >= 0) {
                return (int) n;
            }
            int errno = Native.errno();
            if (errno == Native.EAGAIN) {
                c.readable = false;
            }
            if (errno != Native.EINTR) {
                return -errno;
            }
        }
    }

    private int control(Connection c, int op, int flags) {
        header(c, op, flags, 0);
        return writeHeader(0);
    }

    private void header(Connection c, int op, int flags, int len) {
        out.set(guestCid, c.hostPort, c.guestPort, len, op, flags, settings.bufAlloc(), c.fwdCnt);
        c.fwdCntTold = c.fwdCnt;
        c.pending &= ~Connection.SEND_CREDIT_UPDATE;
    }

    private int writeHeader(int payload) {
        rxChain.write(0, out.buffer());
        return VsockHeader.SIZE + payload;
    }

    private void tellReady() {
        readyTold = true;
        try {
            onReady.enclaveReady();
        } catch (RuntimeException e) {
            LOG.error("the vsock ready listener failed", e);
        }
    }

    private void enqueueIfWork(Connection c) {
        if (!c.queued && c.hasWorkForGuest()) {
            c.queued = true;
            if (sendTail == null) {
                sendHead = sendTail = c;
            } else {
                sendTail.nextQueued = c;
                sendTail = c;
            }
        }
    }

    // ---- timers, resets, shutdown ----

    private void setDeadline(Connection c, long nanos) {
        c.deadline = System.nanoTime() + nanos;
        nextDeadline = Math.min(nextDeadline, c.deadline);
    }

    private void expire() {
        long now = System.nanoTime();
        nextDeadline = Long.MAX_VALUE;
        table.forEach(c -> {
            if (c.deadline == 0) {
                return;
            }
            if (c.deadline - now > 0) {
                nextDeadline = Math.min(nextDeadline, c.deadline);
                return;
            }
            c.deadline = 0;
            switch (c.state) {
                case AWAIT_LINE -> dropClient(c, "sent no CONNECT line within " + settings.requestTimeout());
                case AWAIT_RESPONSE -> {
                    LOG.debug("{}: the enclave did not answer REQUEST within {}", c, settings.requestTimeout());
                    resetConnection(c);
                }
                case HOST_CONNECTING, DRAINING, CLOSING -> resetConnection(c);
                case ESTABLISHED -> {
                }
            }
        });
    }

    /** Closes the host socket, sends the guest RST and forgets the connection at once. */
    private void resetConnection(Connection c) {
        closeHost(c);
        if (table.isIndexed(c)) {
            farewells.add(c.hostPort, c.guestPort, VsockHeader.OP_RST, 0);
        }
        forget(c);
    }

    private void closeHost(Connection c) {
        if (c.fd >= 0) {
            LIBC.close(c.fd);
            c.fd = -1;
        }
    }

    private void forget(Connection c) {
        table.remove(c);
        c.pending = 0;
        c.deadline = 0;
    }

    /** The device stops using its queues; every connection is closed without a word to the guest. */
    private void resetDevice() {
        table.forEach(c -> {
            closeHost(c);
            forget(c);
        });
        farewells.clear();
        sendHead = sendTail = null;
        rxHeld = false;
        rxQueue = txQueue = null;
        usedPublished = false;
    }

    /** A bad chain: the transport sets DEVICE_NEEDS_RESET and logs the reason (and resets us, on this thread). */
    private void broken(String reason) {
        Consumer<String> handler;
        synchronized (this) {
            handler = onBroken;
        }
        resetDevice();
        if (handler != null) {
            handler.accept(reason);
        } else {
            guestLog.deviceError("virtio-vsock", reason);
        }
    }

    /** The thread's end: every host socket closed, the socket file removed, natives freed. */
    private void shutdown() {
        resetDevice();
        LIBC.close(listener);
        try {
            java.nio.file.Files.deleteIfExists(settings.socket());
        } catch (IOException e) {
            LOG.warn("cannot remove the vsock socket {}: {}", settings.socket(), e.getMessage());
        }
        releaseNatives();
    }

    private void releaseNatives() {
        epoll.close();
        wake.closeDescriptor();
        wake.close();
        notify.close();
        MEMORY.freeMemory(iovecs);
        MEMORY.freeMemory(scratch);
    }
}
