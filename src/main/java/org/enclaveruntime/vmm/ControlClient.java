package org.enclaveruntime.vmm;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.state.StateErrors;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/** The CLI's side of the control socket. */
public final class ControlClient {
    private final Path socket;

    public ControlClient(Path socket) {
        this.socket = socket;
    }

    /** Asks the VMM to stop the enclave and returns its answer once the enclave is torn down. */
    public String stop(Duration grace) {
        return request(ControlProtocol.STOP + " " + grace.toMillis());
    }

    public String ping() {
        return request(ControlProtocol.PING);
    }

    private String request(String line) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            ByteBuffer reply = ByteBuffer.allocate(4096);
            while (reply.hasRemaining() && channel.read(reply) > 0) {
                // read until the server closes the connection
            }
            reply.flip();
            String answer = StandardCharsets.UTF_8.decode(reply).toString().strip();
            if (!answer.startsWith(ControlProtocol.OK)) {
                throw new EnclaveException(LifecycleErrors.CONTROL, "the VMM refused '" + line + "': " + answer);
            }
            return answer.substring(ControlProtocol.OK.length()).strip();
        } catch (IOException e) {
            throw new EnclaveException(StateErrors.NOT_RUNNING, "cannot reach the VMM through " + socket + ": "
                    + e.getMessage(), "If the enclave is stuck, use `enclavectl stop --force`.", e);
        }
    }
}
