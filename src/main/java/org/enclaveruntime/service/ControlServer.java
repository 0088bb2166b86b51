package org.enclaveruntime.service;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Serves the control socket of a running VMM on a thread of its own. Requests are handled one at a time:
 * there is one enclave, and a second `stop` while the first runs simply waits its turn and finds it done.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);

    private final Path path;
    private final ServerSocketChannel server;
    private final Function<Duration, String> stopHandler;
    private final Thread thread;
    /** How long close() waits for the answer to a request in progress. */
    static final Duration REPLY_WAIT = Duration.ofSeconds(5);

    /**
     * Binds the socket. The caller holds the enclave lock, so a socket file left by a dead VMM is stale and
     * is removed first.
     */
    ControlServer(Path path, Function<Duration, String> stopHandler) throws IOException {
        this.path = path;
        this.stopHandler = stopHandler;
        Files.deleteIfExists(path);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        thread = new Thread(this::serve, "control");
        thread.setDaemon(true);
        thread.start();
    }

    private void serve() {
        while (server.isOpen()) {
            try (SocketChannel peer = server.accept()) {
                String reply = handle(readLine(peer));
                peer.write(ByteBuffer.wrap((reply + "\n").getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.warn("control socket {}: {}", path, e.toString());
                }
            } catch (RuntimeException e) {
                // One bad request must not end the thread: every later stop would hang.
                log.error("control socket {}: request failed", path, e);
            }
        }
    }

    private String handle(String request) {
        String[] words = request.trim().split("\\s+");
        switch (words[0]) {
            case ControlProtocol.PING:
                return ControlProtocol.OK;
            case ControlProtocol.STOP:
                long graceMs;
                try {
                    graceMs = words.length > 1 ? Math.min(Long.parseLong(words[1]), ControlProtocol.MAX_GRACE.toMillis()) : 5000;
                } catch (NumberFormatException e) {
                    return ControlProtocol.ERROR + " grace is not a number: " + words[1];
                }
                return ControlProtocol.OK + " " + stopHandler.apply(Duration.ofMillis(Math.max(0, graceMs)));
            default:
                return ControlProtocol.ERROR + " unknown request '" + truncate(request) + "'";
        }
    }

    /**
     * Reads one request line, giving the peer {@link ControlProtocol#READ_DEADLINE} to send it: requests are
     * served one at a time, so a peer that connects and says nothing must not hold up every later `stop`.
     */
    private static String readLine(SocketChannel peer) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(ControlProtocol.MAX_REQUEST);
        long deadline = System.nanoTime() + ControlProtocol.READ_DEADLINE.toNanos();
        peer.configureBlocking(false);
        try (Selector selector = Selector.open()) {
            peer.register(selector, SelectionKey.OP_READ);
            while (buffer.hasRemaining()) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new IOException("no request line within " + ControlProtocol.READ_DEADLINE.toMillis() + " ms");
                }
                selector.select(left);
                selector.selectedKeys().clear();
                int n = peer.read(buffer);
                if (n < 0 || (n > 0 && buffer.get(buffer.position() - 1) == '\n')) {
                    break;
                }
            }
        }
        peer.configureBlocking(true);
        buffer.flip();
        return StandardCharsets.UTF_8.decode(buffer).toString();
    }

    private static String truncate(String s) {
        String t = s.strip();
        return t.length() > 40 ? t.substring(0, 40) + "..." : t;
    }

    /**
     * Stops accepting and waits (at most {@link #REPLY_WAIT}) for a request being served to be answered, so
     * that a process exiting right after close() does not leave a client with a connection closed unanswered.
     */
    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.debug("closing control socket {}: {}", path, e.toString());
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(REPLY_WAIT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
