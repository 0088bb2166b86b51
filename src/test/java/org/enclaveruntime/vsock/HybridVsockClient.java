package org.enclaveruntime.vsock;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The tests' side of the hybrid-vsock protocol (docs/vsock.md), written from the protocol text with the
 * JDK's own Unix-domain sockets, independently of the bridge it tests.
 */
final class HybridVsockClient {
    private HybridVsockClient() {
    }

    /** A blocking channel to the enclave's {@code port}, after the "OK" line; empty if the bridge refused. */
    static Optional<SocketChannel> connect(Path socket, int port) throws IOException {
        return request(socket, "CONNECT " + port + "\n").map(Connected::channel);
    }

    record Connected(SocketChannel channel, String okLine) {
    }

    /**
     * Sends {@code line} as it is (garbage included) and reads the answer line; empty when the bridge closed
     * the connection without a complete line.
     */
    static Optional<Connected> request(Path socket, String line) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            writeFully(ch, ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
            StringBuilder answer = new StringBuilder();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (answer.length() < 64) {
                one.clear();
                int n;
                try {
                    n = ch.read(one);
                } catch (IOException reset) {
                    n = -1;
                }
                if (n < 0) {
                    ch.close();
                    return Optional.empty();
                }
                char c = (char) one.get(0);
                if (c == '\n') {
                    return Optional.of(new Connected(ch, answer.toString()));
                }
                answer.append(c);
            }
            ch.close();
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads until {@code b} is full; false if the stream ended first. */
    static boolean readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                return false;
            }
        }
        return true;
    }
}
