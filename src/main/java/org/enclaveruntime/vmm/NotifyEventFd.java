package org.enclaveruntime.vmm;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.kvm.KvmErrors;
import org.enclaveruntime.kvm.KvmVm;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

/**
 * The ioeventfd behind the NOTIFY port (docs/guest-abi.md): a 32-bit guest write to it signals this
 * eventfd inside KVM and never exits to the VMM. Until a virtio device takes the notifications, they are
 * only counted, read out of the (non-blocking) eventfd when asked, so nothing has to drain it in between:
 * its 64-bit counter cannot overflow at any rate a guest can reach.
 */
final class NotifyEventFd implements AutoCloseable {
    private static final LibC LIBC = LibC.INSTANCE;
    private static final int COUNTER_BYTES = 8;

    private final int fd;
    private final Pointer counter = Memory.allocateDirect(Runtime.getSystemRuntime(), COUNTER_BYTES, true);
    private long total;
    private boolean closed;

    private NotifyEventFd(int fd) {
        this.fd = fd;
    }

    /** Creates the eventfd and registers it for 4-byte writes to {@code port}. */
    static NotifyEventFd register(KvmVm vm, int port) {
        int fd = LIBC.eventfd(0, Native.EFD_CLOEXEC | Native.EFD_NONBLOCK);
        if (fd < 0) {
            throw new EnclaveException(KvmErrors.KVM_OPERATION_FAILED, "eventfd for the NOTIFY port failed: "
                    + Native.describe(Native.errno()));
        }
        try {
            vm.addPortEventFd(port, 4, fd);
        } catch (RuntimeException e) {
            LIBC.close(fd);
            throw e;
        }
        return new NotifyEventFd(fd);
    }

    /** The eventfd, for a device that waits on it (it then drains it, and counts, itself). */
    int fd() {
        return fd;
    }

    /** NOTIFY writes so far. */
    synchronized long count() {
        if (!closed && LIBC.read(fd, counter, COUNTER_BYTES) == COUNTER_BYTES) {
            total += counter.getLong(0);
        }
        return total;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LIBC.close(fd);
        }
    }
}
