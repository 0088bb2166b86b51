package org.enclaveruntime.sdk;

import org.enclaveruntime.errors.IoReason;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * One connection to the enclave's module service: the hybrid-vsock handshake (docs/vsock.md), then messages.
 * The socket is non-blocking and waited on with a selector of its own, because the JDK's Unix-domain channels
 * have no read timeout and a peer that stalls must never hang the caller: every wait has a bound, except the
 * wait for an ECALL's answer when the caller set no call timeout (trusted code may rightly run long; an
 * enclave that ends closes the connection, which ends that wait too).
 *
 * <p>One thread uses a channel at a time; {@link #close} may come from any thread and ends a wait in progress.
 */
final class FrameChannel implements AutoCloseable {
    /** The hybrid-vsock answer: "OK", one space, the host port the enclave sees (docs/vsock.md). */
    private static final Pattern OK_LINE = Pattern.compile("OK [0-9]{1,10}");
    private static final int MAX_LINE = 32;

    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final Duration stall;
    private final ByteBuffer header = ByteBuffer.allocateDirect(FrameHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer sendHeader = ByteBuffer.allocateDirect(FrameHeader.SIZE);
    private volatile boolean closed;

    private FrameChannel(SocketChannel channel, Duration stall) throws IOException {
        this.channel = channel;
        this.stall = stall;
        this.selector = Selector.open();
        this.key = channel.register(selector, 0);
    }

    /**
     * A connection to enclave port {@code port} through the bridge at {@code socket}, after its "OK" line.
     *
     * @param stall the most time the bridge may take to answer, and later the most time without progress
     *              within a message
     */
    static FrameChannel connect(Path socket, int port, Duration stall) {
        SocketChannel ch;
        boolean connected;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException e) {
            throw new EnclaveCallException(EnclaveStatus.UNEXPECTED, "cannot create a Unix socket: " + IoReason.of(e), e);
        }
        try {
            ch.configureBlocking(false);
            connected = ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            String reason = e instanceof IOException io ? IoReason.of(io) : String.valueOf(e.getMessage());
            throw new EnclaveCallException(EnclaveStatus.NO_DEVICE, "cannot connect to the enclave's vsock socket "
                    + socket + ": " + reason + " (is the enclave running? `enclavectl status`; the socket's group "
                    + "is [vsock] group)", e);
        }
        FrameChannel fc;
        try {
            fc = new FrameChannel(ch, stall);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new EnclaveCallException(EnclaveStatus.UNEXPECTED, "cannot create a selector: " + IoReason.of(e), e);
        }
        try {
            if (!connected) {
                fc.await(SelectionKey.OP_CONNECT, stall, "the connection to " + socket);
                ch.finishConnect();
            }
            fc.writeFully(new ByteBuffer[]{StandardCharsets.US_ASCII.encode("CONNECT " + port + "\n")},
                    "CONNECT " + port);
            String line = fc.readLine(stall);
            if (!OK_LINE.matcher(line).matches()) {
                throw WireException.protocol("the answer line '" + line + "' to CONNECT " + port + ", not 'OK <port>'");
            }
            return fc;
        } catch (WireException e) {
            fc.close();
            throw switch (e.kind) {
                case CLOSED -> new EnclaveCallException(EnclaveStatus.SERVICE_UNAVAILABLE, "the enclave behind "
                        + socket + " accepted no connection to its module service (vsock port " + port + "): it is "
                        + "not READY yet, or its image has no module service", e);
                case TIMEOUT -> new EnclaveCallException(EnclaveStatus.SERVICE_TIMEOUT, e.getMessage(), e);
                case PROTOCOL, CLOSED_HERE -> new EnclaveCallException(EnclaveStatus.UNEXPECTED, e.getMessage(), e);
            };
        } catch (IOException e) {
            fc.close();
            throw new EnclaveCallException(EnclaveStatus.NO_DEVICE, "cannot connect to the enclave's vsock socket "
                    + socket + ": " + IoReason.of(e), e);
        }
    }

    /** The answer line without its newline; the bytes after it stay unread (they are the stream's). */
    private String readLine(Duration timeout) throws WireException {
        long deadline = System.nanoTime() + timeout.toNanos();
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            fill(one, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())), "the answer to CONNECT");
            char c = (char) (one.get(0) & 0xff);
            if (c == '\n') {
                return line.toString();
            }
            if (line.length() == MAX_LINE) {
                throw WireException.protocol("an answer line to CONNECT longer than " + MAX_LINE + " bytes");
            }
            line.append(c);
        }
    }

    /**
     * Whether the enclave has ended this connection, seen without waiting: for a connection on which the enclave
     * sends nothing unasked (the module connection), where unasked bytes are as bad as an end.
     */
    boolean endedByPeer() {
        ByteBuffer one = ByteBuffer.allocate(1);
        try {
            return channel.read(one) != 0;
        } catch (IOException e) {
            return true;
        }
    }

    /** Sends a header and its payload buffers (their remaining bytes) as one message. */
    void send(MessageType type, int arg, ByteBuffer... payload) throws WireException {
        long length = 0;
        for (ByteBuffer p : payload) {
            length += p.remaining();
        }
        if (length > type.payloadLimit()) {
            throw new IllegalArgumentException(type + " of " + length + " bytes");
        }
        sendHeader.clear();
        new FrameHeader(type, (int) length, arg).encode(sendHeader);
        sendHeader.flip();
        ByteBuffer[] all = new ByteBuffer[payload.length + 1];
        all[0] = sendHeader;
        System.arraycopy(payload, 0, all, 1, payload.length);
        writeFully(all, type.toString());
    }

    /**
     * The next message's header.
     *
     * @param firstByte how long to wait for the message to begin; null waits as long as the connection lives
     */
    FrameHeader receive(Duration firstByte, String waitingFor) throws WireException {
        header.clear();
        fill(header, firstByte, waitingFor);
        header.flip();
        return FrameHeader.decode(header);
    }

    /** Reads exactly {@code dst.remaining()} payload bytes into {@code dst}. */
    void readPayload(ByteBuffer dst, String what) throws WireException {
        fill(dst, stall, what);
    }

    byte[] readPayload(int length, String what) throws WireException {
        byte[] bytes = new byte[length];
        fill(ByteBuffer.wrap(bytes), stall, what);
        return bytes;
    }

    /**
     * Fills {@code dst}; the first byte may take {@code firstByte} (null: no bound), every later wait at most
     * the stall timeout.
     */
    private void fill(ByteBuffer dst, Duration firstByte, String what) throws WireException {
        boolean started = false;
        while (dst.hasRemaining()) {
            int n;
            try {
                n = channel.read(dst);
            } catch (IOException e) {
                throw failure(e, "while reading " + what);
            }
            if (n < 0) {
                throw new WireException(closed ? WireException.Kind.CLOSED_HERE : WireException.Kind.CLOSED,
                        "the enclave closed the connection " + (started ? "in the middle of " : "before ") + what,
                        null);
            }
            if (n > 0) {
                started = true;
                continue;
            }
            await(SelectionKey.OP_READ, started ? stall : firstByte, what);
        }
    }

    private void writeFully(ByteBuffer[] buffers, String what) throws WireException {
        while (anyRemaining(buffers)) {
            long n;
            try {
                n = channel.write(buffers);
            } catch (IOException e) {
                throw failure(e, "while sending " + what);
            }
            if (n == 0) {
                await(SelectionKey.OP_WRITE, stall, "the enclave to take " + what);
            }
        }
    }

    private static boolean anyRemaining(ByteBuffer[] buffers) {
        for (ByteBuffer b : buffers) {
            if (b.hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Waits until the socket is ready for {@code ops}, at most {@code timeout} (null: no bound). The wait is not
     * interruptible, as an ECALL is not in SGX: an interrupted select returns at once for as long as the interrupt
     * status is set, so it is cleared for the wait and set again afterwards.
     */
    private void await(int ops, Duration timeout, String what) throws WireException {
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            key.interestOps(ops);
            while (true) {
                if (closed) {
                    throw closedHere(what);
                }
                int ready;
                if (timeout == null) {
                    ready = selector.select();
                } else {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new WireException(WireException.Kind.TIMEOUT, "the enclave sent nothing for "
                                + millis(timeout) + " while this process waited for " + what, null);
                    }
                    // select(0) would wait for ever: round up to at least a millisecond.
                    ready = selector.select(Math.max(1, (left + 999_999) / 1_000_000));
                }
                selector.selectedKeys().clear();
                if (ready > 0) {
                    return;
                }
                interrupted |= Thread.interrupted();
            }
        } catch (ClosedSelectorException | CancelledKeyException e) {
            throw closedHere(what);
        } catch (IOException e) {
            throw failure(e, "while waiting for " + what);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String millis(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private WireException closedHere(String what) {
        return new WireException(WireException.Kind.CLOSED_HERE, "the module was closed by this process while it "
                + "waited for " + what, null);
    }

    private WireException failure(IOException e, String what) {
        if (closed) {
            return closedHere(what);
        }
        return new WireException(WireException.Kind.CLOSED, "the connection to the enclave broke " + what + ": "
                + IoReason.of(e), e);
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        try {
            selector.close();
        } catch (IOException ignored) {
            // nothing to report: the channel is closed next, which is what matters
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing a socket only fails when it is already gone
        }
    }
}
