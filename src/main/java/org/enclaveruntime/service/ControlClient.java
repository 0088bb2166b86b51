package org.enclaveruntime.service;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.state.StateErrors;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The CLI's side of the control socket. */
public final class ControlClient {
    private final Path socket;

    public ControlClient(Path socket) {
        this.socket = socket;
    }

    /** Asks the VMM to stop the enclave and returns its answer once the enclave is torn down. */
    public String stop(Duration grace) {
        return request(ControlProtocol.STOP + " " + grace.toMillis(), grace.plus(ANSWER_MARGIN));
    }

    public String ping() {
        return request(ControlProtocol.PING, ANSWER_MARGIN);
    }

    /** Beyond the grace, how long a teardown (scrub, free, state) may take before the VMM counts as stuck. */
    private static final Duration ANSWER_MARGIN = Duration.ofSeconds(30);

    private String request(String line, Duration timeout) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            String answer = readAll(channel, timeout).strip();
            if (!answer.startsWith(ControlProtocol.OK)) {
                throw new EnclaveException(LifecycleErrors.CONTROL, "the VMM refused '" + line + "': " + answer);
            }
            return answer.substring(ControlProtocol.OK.length()).strip();
        } catch (IOException e) {
            throw new EnclaveException(StateErrors.NOT_RUNNING, "cannot reach the VMM through " + socket + ": "
                    + e.getMessage(), "If the enclave is stuck, use `enclavectl stop --force`.", e);
        }
    }

    /** Reads until the server closes the connection, or fails with E454 when it does not answer in time. */
    private String readAll(SocketChannel channel, Duration timeout) throws IOException {
        ByteBuffer reply = ByteBuffer.allocate(4096);
        long deadline = System.nanoTime() + timeout.toNanos();
        channel.configureBlocking(false);
        try (Selector selector = Selector.open()) {
            channel.register(selector, SelectionKey.OP_READ);
            while (reply.hasRemaining()) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new EnclaveException(LifecycleErrors.STOP_TIMEOUT, "the VMM did not answer through "
                            + socket + " within " + timeout.toSeconds() + " s");
                }
                selector.select(left);
                selector.selectedKeys().clear();
                if (channel.read(reply) < 0) {
                    break;
                }
            }
        }
        reply.flip();
        return StandardCharsets.UTF_8.decode(reply).toString();
    }
}
