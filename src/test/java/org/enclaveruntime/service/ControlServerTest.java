package org.enclaveruntime.service;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The control socket over a real Unix socket, with well- and ill-behaved peers. */
class ControlServerTest {
    @TempDir
    Path dir;

    @Test
    void stopIsAnsweredAfterTheHandlerAndTheSocketIsPrivate() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (ControlServer server = new ControlServer(socket, grace -> "stopped in " + grace.toMillis())) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            ControlClient client = new ControlClient(socket);
            assertEquals("", client.ping());
            assertEquals("stopped in 1500", client.stop(Duration.ofMillis(1500)));
        }
        assertFalse(Files.exists(socket), "the socket file is removed on close");
    }

    @Test
    void aSilentPeerDoesNotBlockTheNextStop() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (ControlServer server = new ControlServer(socket, grace -> "stopped");
             SocketChannel silent = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            silent.connect(UnixDomainSocketAddress.of(socket));
            String answer = CompletableFuture.supplyAsync(() -> new ControlClient(socket).stop(Duration.ZERO))
                    .get(10, TimeUnit.SECONDS);
            assertEquals("stopped", answer);
        }
    }

    @Test
    void garbageIsRefusedAndAnOverlongRequestDoesNotHurtTheServer() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (ControlServer server = new ControlServer(socket, grace -> "stopped")) {
            assertEquals("error unknown request 'reboot now'", exchange(socket, "reboot now\n"));
            try {
                exchange(socket, "x".repeat(100_000));
            } catch (java.io.IOException resetByServer) {
                // the server hung up after MAX_REQUEST bytes; what matters is that it still serves
            }
            assertEquals("", new ControlClient(socket).ping());
        }
        EnclaveException e = assertThrows(EnclaveException.class, () -> new ControlClient(dir.resolve("none")).ping());
        assertEquals("E302", e.code().id());
    }

    private static String exchange(Path socket, String request) throws java.io.IOException {
        try (SocketChannel peer = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            peer.connect(UnixDomainSocketAddress.of(socket));
            peer.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
            ByteBuffer reply = ByteBuffer.allocate(512);
            while (peer.read(reply) > 0) {
                // until the server hangs up
            }
            return new String(reply.array(), 0, reply.position(), StandardCharsets.UTF_8).strip();
        }
    }
}
