package org.enclaveruntime.vsock;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/** E7xx: the host side of vsock (the Unix socket bridge). */
public final class VsockErrors {
    private VsockErrors() {
    }

    public static final ErrorCode SOCKET_PATH = new ErrorCode("E701", ExitStatus.CONFIG,
            "vsock socket path unusable",
            "Point [vsock] socket at a free path of at most 107 bytes, or stop the process that listens there.",
            "The VMM listens on the Unix socket named by [vsock] socket. A socket file left behind by a VMM "
                    + "that died is replaced, but the path must not be something other than a socket, must not "
                    + "be a socket another process still listens on (two enclaves configured with one socket), "
                    + "and must fit a Unix socket address (107 bytes).");

    public static final ErrorCode SOCKET_GROUP = new ErrorCode("E702", ExitStatus.CONFIG,
            "cannot give the vsock socket its group",
            "Name an existing group (or gid) in the vsock group setting, and run the VMM as root or as a member "
                    + "of that group.",
            "The vsock socket is created with mode 0660 so that members of one group may talk to the enclave. "
                    + "Changing its group fails when the group does not exist or when the VMM is neither root "
                    + "(CAP_CHOWN) nor a member of the group.");

    public static final ErrorCode SOCKET = new ErrorCode("E703", ExitStatus.FAILURE,
            "cannot create the vsock socket",
            "Check that the directory of [vsock] socket exists and is writable by the VMM.",
            "Creating, binding or listening on the vsock Unix socket failed; the message names the call and "
                    + "the system's reason (for example 'No such file or directory' for a missing directory).");

    public static final List<ErrorCode> ALL = List.of(SOCKET_PATH, SOCKET_GROUP, SOCKET);
}
