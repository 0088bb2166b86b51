package org.enclaveruntime.vsock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The host side of one VM's vsock device.
 *
 * @param socket          the bridge's listening Unix socket; guest connections to host port P go to {@code socket_P}
 * @param group           group of the socket (a name or a gid), or null to keep the VMM's
 * @param bufAlloc        receive buffer the device advertises per connection (buf_alloc), the most it holds
 * @param maxConnections  connections at once, bridge clients that have not sent their line included
 * @param requestTimeout  how long a bridge client may take to send its line, and the guest to answer REQUEST
 * @param shutdownTimeout how long a SHUTDOWN(both) waits for the guest's answer before RST
 */
public record VsockSettings(Path socket, String group, int bufAlloc, int maxConnections, Duration requestTimeout,
                            Duration shutdownTimeout) {
    public static final int BUF_ALLOC = 256 * 1024;
    public static final int MAX_CONNECTIONS = 1024;
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(2);

    public VsockSettings {
        Objects.requireNonNull(socket, "socket");
        if (bufAlloc <= 0 || maxConnections <= 0) {
            throw new IllegalArgumentException("bufAlloc and maxConnections must be positive");
        }
    }

    /** The documented limits (docs/guest-abi.md, "Packets"; docs/vsock.md). */
    public static VsockSettings of(Path socket, String group) {
        return new VsockSettings(socket, group, BUF_ALLOC, MAX_CONNECTIONS, REQUEST_TIMEOUT, SHUTDOWN_TIMEOUT);
    }
}
