package org.enclaveruntime.systemd;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * sd_notify(3) without libsystemd: one datagram per message to the Unix socket named by $NOTIFY_SOCKET, which
 * systemd sets for a Type=notify service. A path, or a name in the abstract namespace written "@name".
 * Notification is best effort, as in libsystemd: a socket that cannot be reached is logged once and the
 * enclave runs on; without $NOTIFY_SOCKET every call does nothing.
 *
 * <p>Through libc rather than the JDK: Java 17's Unix-domain support (UnixDomainSocketAddress) covers stream
 * sockets only, and no abstract names; jnr-unixsocket would load jnr-ffi's proxy generator, which the VMM's
 * start no longer pays for (see LibC).
 */
public final class SystemdNotifier {
    public static final String ENVIRONMENT = "NOTIFY_SOCKET";
    /** sizeof(struct sockaddr_un): sa_family_t, then sun_path[108]. */
    private static final int SOCKADDR_UN_SIZE = 110;
    private static final int FAMILY_SIZE = 2;
    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);
    private static final SystemdNotifier NONE = new SystemdNotifier(null, null);

    private final String socketName;
    private final byte[] address;
    private boolean warned;

    private SystemdNotifier(String socketName, byte[] address) {
        this.socketName = socketName;
        this.address = address;
    }

    /** The notifier of this process: to $NOTIFY_SOCKET, or one that does nothing. */
    public static SystemdNotifier fromEnvironment() {
        return of(System.getenv());
    }

    /** A notifier that tells no one: for a process that is not the service's main process. */
    public static SystemdNotifier none() {
        return NONE;
    }

    static SystemdNotifier of(Map<String, String> environment) {
        String name = environment.get(ENVIRONMENT);
        if (name == null || name.isEmpty()) {
            return NONE;
        }
        byte[] address = sockaddr(name);
        if (address == null) {
            log.warn("{}={} is neither an absolute path nor an abstract socket name (@name) of at most 107 bytes; "
                    + "not notifying systemd",
                    ENVIRONMENT, name);
            return NONE;
        }
        return new SystemdNotifier(name, address);
    }

    /** Whether messages go anywhere, i.e. this process runs as a Type=notify service. */
    public boolean active() {
        return address != null;
    }

    /** STATUS=: what `systemctl status` shows as the service's status line. */
    public void status(String text) {
        send("STATUS=" + oneLine(text));
    }

    /** READY=1 with the status line that goes with it: `systemctl start` returns now. */
    public void ready(String text) {
        send("READY=1\nSTATUS=" + oneLine(text));
    }

    /** STOPPING=1: the service is shutting down (asked by `systemctl stop`, SIGTERM or `enclavectl stop`). */
    public void stopping(String text) {
        send("STOPPING=1\nSTATUS=" + oneLine(text));
    }

    /** Tells systemd why the start failed (STATUS=, the same words as on a terminal) and returns the error. */
    public EnclaveException failing(EnclaveException error) {
        status(failureLine(error));
        return error;
    }

    /** "error E400: /dev/kvm does not exist on this host". */
    public static String failureLine(EnclaveException error) {
        return "error " + error.code().id() + ": " + error.getMessage();
    }

    /** One datagram of newline-separated KEY=VALUE assignments, as sd_notify sends it. */
    public synchronized void send(String message) {
        if (address == null) {
            return;
        }
        LibC libc = LibC.INSTANCE;
        int fd = libc.socket(Native.AF_UNIX, Native.SOCK_DGRAM | Native.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            warnOnce(Native.describe(Native.errno()));
            return;
        }
        try {
            long sent = libc.sendto(fd, message.getBytes(StandardCharsets.UTF_8), Native.MSG_NOSIGNAL, address);
            if (sent < 0) {
                warnOnce(Native.describe(Native.errno()));
            }
        } finally {
            libc.close(fd);
        }
    }

    private void warnOnce(String why) {
        if (!warned) {
            warned = true;
            log.warn("cannot notify systemd through {}: {}", socketName, why);
        }
    }

    /** A value is one line: systemd reads a newline as the end of the assignment. */
    private static String oneLine(String text) {
        return text.replace('\n', ' ').strip();
    }

    /**
     * The bytes of a struct sockaddr_un for {@code name}, as long as the kernel is to read: a path with its
     * terminating NUL; for "@name", a NUL and the name without one (the abstract namespace). Null for a name
     * that is neither, or too long.
     */
    static byte[] sockaddr(String name) {
        byte[] path = name.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = name.startsWith("@");
        if (!abstractName && !name.startsWith("/")) {
            return null;
        }
        // "@name" has the same length as NUL + "name"; a path needs room for its terminating NUL.
        int length = FAMILY_SIZE + path.length + (abstractName ? 0 : 1);
        if (length > SOCKADDR_UN_SIZE || path.length < 2 && abstractName) {
            return null;
        }
        byte[] address = new byte[length];
        address[0] = (byte) Native.AF_UNIX; // little-endian sa_family_t
        System.arraycopy(path, 0, address, FAMILY_SIZE, path.length);
        if (abstractName) {
            address[FAMILY_SIZE] = 0;
        }
        return address;
    }
}
