package org.enclaveruntime.sdk;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test double of the enclave's side: a real Unix socket playing the hybrid-vsock bridge and the module service
 * (docs/vsock.md, docs/module-runtime.md section 3), written from the protocol text and independent of the SDK's
 * codec, so that the SDK's handling of good and misbehaving peers can be tested without KVM. Each accepted
 * connection runs {@link Script#serve} on a thread of its own.
 */
final class ScriptedEnclave implements AutoCloseable {
    static final int MAGIC = 0x4D434E45;
    static final int LOAD = 1, LOADED = 2, ATTACH = 3, ATTACHED = 4, ECALL = 5, ECALL_RETURN = 6, OCALL = 7,
            OCALL_RETURN = 8, UNLOAD = 9, UNLOADED = 10, ERROR = 11;
    static final int MODULE_ID = 7;

    /** What the enclave does on one connection, after the "OK" line. */
    interface Script {
        void serve(Peer peer) throws IOException;
    }

    record Frame(int type, int arg, byte[] payload) {
        ByteBuffer le() {
            return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    final Path socket;
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private volatile Script script;
    final AtomicInteger connections = new AtomicInteger();
    /** Every frame received, on any connection, in arrival order. */
    final List<Frame> received = new CopyOnWriteArrayList<>();
    /** Failures inside the scripts (assertions about what the SDK sent), reported by the test. */
    final List<Throwable> problems = new CopyOnWriteArrayList<>();
    private final List<SocketChannel> open = new CopyOnWriteArrayList<>();

    ScriptedEnclave(Path socket, Script script) throws IOException {
        this.socket = socket;
        this.script = script;
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        acceptor = new Thread(this::acceptLoop, "scripted-enclave");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    void script(Script s) {
        script = s;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                return;
            }
            open.add(ch);
            connections.incrementAndGet();
            Script s = script;
            Thread t = new Thread(() -> {
                try (ch) {
                    Peer p = new Peer(ch);
                    if (!p.readLine().equals("CONNECT 7000")) {
                        throw new AssertionError("request line is not CONNECT 7000");
                    }
                    s.serve(p);
                } catch (IOException e) {
                    // the SDK closed its side: nothing left to serve
                } catch (Throwable e) {
                    problems.add(e);
                }
            }, "scripted-enclave-connection");
            t.setDaemon(true);
            t.start();
        }
    }

    /** The enclave's end of one connection. */
    final class Peer {
        final SocketChannel ch;

        Peer(SocketChannel ch) {
            this.ch = ch;
        }

        String readLine() throws IOException {
            StringBuilder s = new StringBuilder();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (true) {
                one.clear();
                if (ch.read(one) < 0) {
                    throw new IOException("closed before the newline");
                }
                if (one.get(0) == '\n') {
                    return s.toString();
                }
                s.append((char) one.get(0));
            }
        }

        void ok() throws IOException {
            raw("OK 1073741824\n".getBytes(StandardCharsets.US_ASCII));
        }

        /** The next frame, or null when the SDK closed the connection. */
        Frame read() throws IOException {
            ByteBuffer h = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            if (!fill(h)) {
                return null;
            }
            if (h.getInt(0) != MAGIC || h.getShort(6) != 0) {
                throw new AssertionError("the SDK sent a bad header");
            }
            ByteBuffer p = ByteBuffer.allocate(h.getInt(8));
            if (!fill(p)) {
                throw new AssertionError("the SDK closed in the middle of a payload");
            }
            Frame f = new Frame(h.getShort(4), h.getInt(12), p.array());
            received.add(f);
            return f;
        }

        private boolean fill(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    return false;
                }
            }
            return true;
        }

        void send(int type, int arg, byte[] payload) throws IOException {
            raw(header(MAGIC, type, payload.length, arg), payload);
        }

        void raw(byte[]... parts) throws IOException {
            for (byte[] part : parts) {
                ByteBuffer b = ByteBuffer.wrap(part);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
        }
    }

    static byte[] header(int magic, int type, int length, int arg) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(magic).putShort((short) type).putShort((short) 0).putInt(length).putInt(arg).array();
    }

    /** A LOADED payload for a module that took: id 7, TCSNum 8, MRENCLAVE bytes 1, MRSIGNER bytes 2, ... */
    static byte[] loadedPayload() {
        ByteBuffer b = ByteBuffer.allocate(120).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MODULE_ID).putInt(8);
        for (int i = 0; i < 48; i++) {
            b.put((byte) 1);
        }
        for (int i = 0; i < 48; i++) {
            b.put((byte) 2);
        }
        b.putShort((short) 3).putShort((short) 4).putInt(1).putLong(0x40000000L);
        return b.array();
    }

    static int u32(byte[] payload) {
        return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    }

    static byte[] afterU32(byte[] payload) {
        return java.util.Arrays.copyOfRange(payload, 4, payload.length);
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel ch : open) {
            ch.close();
        }
        Files.deleteIfExists(socket);
    }
}
