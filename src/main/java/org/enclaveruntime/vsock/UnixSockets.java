package org.enclaveruntime.vsock;

import com.kenai.jffi.MemoryIO;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;

/** Unix stream sockets as raw non-blocking descriptors, for the one epoll of the vsock event thread. */
final class UnixSockets {
    private static final LibC LIBC = LibC.INSTANCE;
    private static final MemoryIO MEMORY = MemoryIO.getInstance();
    private static final int BACKLOG = 128;

    private UnixSockets() {
    }

    /** The path's bytes, or null when they do not fit sun_path with its terminating zero. */
    static byte[] pathBytes(Path path) {
        byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        return bytes.length < Native.UNIX_PATH_MAX ? bytes : null;
    }

    /** A struct sockaddr_un in native memory (the caller frees it); {@code bytes} from {@link #pathBytes}. */
    private static long sockaddr(byte[] bytes) {
        long address = MEMORY.allocateMemory(Native.SOCKADDR_UN_SIZE, true);
        MEMORY.putShort(address, (short) Native.AF_UNIX);
        MEMORY.putByteArray(address + 2, bytes, 0, bytes.length);
        return address;
    }

    private static int streamSocket() {
        return LIBC.socket(Native.AF_UNIX, Native.SOCK_STREAM | Native.SOCK_NONBLOCK | Native.SOCK_CLOEXEC, 0);
    }

    /**
     * The bridge's listening socket at {@code path}: mode 0660, group {@code group} (a name or a numeric gid;
     * null keeps the process's). A socket file left by a dead VMM is replaced; one that someone still
     * listens on, or a path that is not a socket, is an error naming it.
     */
    static int listen(Path path, String group) {
        byte[] bytes = pathBytes(path);
        if (bytes == null) {
            throw new EnclaveException(VsockErrors.SOCKET_PATH, "vsock socket path " + path + " is "
                    + path.toString().getBytes(StandardCharsets.UTF_8).length + " bytes long; a Unix socket path "
                    + "has at most " + (Native.UNIX_PATH_MAX - 1));
        }
        removeStale(path);
        int fd = streamSocket();
        if (fd < 0) {
            throw socketError("socket() for the vsock socket " + path, Native.errno());
        }
        long address = sockaddr(bytes);
        try {
            if (LIBC.bind(fd, address, Native.SOCKADDR_UN_SIZE) != 0) {
                throw socketError("bind to the vsock socket " + path, Native.errno());
            }
            try {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
                if (group != null) {
                    setGroup(path, group);
                }
            } catch (IOException e) {
                Files.deleteIfExists(path);
                throw new EnclaveException(VsockErrors.SOCKET, "cannot set mode 0660 on the vsock socket " + path
                        + ": " + e.getMessage());
            }
            if (LIBC.listen(fd, BACKLOG) != 0) {
                throw socketError("listen on the vsock socket " + path, Native.errno());
            }
            return fd;
        } catch (RuntimeException | IOException e) {
            LIBC.close(fd);
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // the first error is the one to report
            }
            throw e instanceof RuntimeException r ? r
                    : new EnclaveException(VsockErrors.SOCKET, "vsock socket " + path + ": " + e.getMessage());
        } finally {
            MEMORY.freeMemory(address);
        }
    }

    private static void setGroup(Path path, String group) {
        GroupPrincipal principal;
        try {
            // The JDK resolves a name through the group database and takes a number as a gid.
            principal = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
        } catch (IOException e) {
            throw new EnclaveException(VsockErrors.SOCKET_GROUP, "vsock socket group '" + group
                    + "' is neither a group name nor a gid on this host");
        }
        try {
            Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setGroup(principal);
        } catch (IOException e) {
            throw new EnclaveException(VsockErrors.SOCKET_GROUP, "cannot give the vsock socket " + path
                    + " to group '" + group + "': " + e.getMessage()
                    + " (changing to a group this process is not a member of needs root or CAP_CHOWN)");
        }
    }

    /** Deletes a socket file nobody listens on; refuses a live socket and anything that is not a socket. */
    private static void removeStale(Path path) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        boolean socket;
        try {
            socket = "s".equals(typeOf(path));
        } catch (IOException e) {
            throw new EnclaveException(VsockErrors.SOCKET_PATH, "cannot inspect the vsock socket path " + path
                    + ": " + e.getMessage());
        }
        if (!socket) {
            throw new EnclaveException(VsockErrors.SOCKET_PATH, "vsock socket path " + path
                    + " exists and is not a socket; remove it or choose another [vsock] socket");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException refused) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                throw new EnclaveException(VsockErrors.SOCKET_PATH, "cannot remove the stale vsock socket " + path
                        + ": " + e.getMessage());
            }
            return;
        }
        throw new EnclaveException(VsockErrors.SOCKET_PATH, "vsock socket " + path
                + " is in use: another process listens on it (is another enclave configured with the same socket?)");
    }

    private static String typeOf(Path path) throws IOException {
        Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        int m = (Integer) mode & 0170000;
        return m == 0140000 ? "s" : "other";
    }

    private static EnclaveException socketError(String what, int errno) {
        return new EnclaveException(VsockErrors.SOCKET, what + " failed: " + Native.describe(errno));
    }

    /**
     * Starts a non-blocking connect to the Unix socket {@code bytes}. Returns the descriptor (connected, or
     * with the connect in progress when {@code inProgress[0]} is set), or -errno.
     */
    static int connect(byte[] bytes, boolean[] inProgress) {
        int fd = streamSocket();
        if (fd < 0) {
            return -Native.errno();
        }
        long address = sockaddr(bytes);
        try {
            inProgress[0] = false;
            if (LIBC.connect(fd, address, Native.SOCKADDR_UN_SIZE) == 0) {
                return fd;
            }
            int errno = Native.errno();
            if (errno == Native.EINPROGRESS) {
                inProgress[0] = true;
                return fd;
            }
            LIBC.close(fd);
            return -errno;
        } finally {
            MEMORY.freeMemory(address);
        }
    }

    /** SO_ERROR of a socket whose non-blocking connect finished: 0 when it connected. */
    static int pendingError(int fd, long scratch) {
        MEMORY.putInt(scratch, 0);
        MEMORY.putInt(scratch + 4, 4);
        if (LIBC.getsockopt(fd, Native.SOL_SOCKET, Native.SO_ERROR, scratch, scratch + 4) != 0) {
            return Native.errno();
        }
        return MEMORY.getInt(scratch);
    }
}
