package org.enclaveruntime.kvm;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

/** Checks the result of a KVM ioctl and turns a failure into an error naming the operation. */
final class KvmCalls {
    private KvmCalls() {
    }

    static final LibC LIBC = LibC.INSTANCE;

    static int check(int rc, String operation) {
        if (rc < 0) {
            throw failure(operation, Native.errno());
        }
        return rc;
    }

    static EnclaveException failure(String operation, int errno) {
        return new EnclaveException(KvmErrors.KVM_OPERATION_FAILED, operation + " failed: " + Native.describe(errno));
    }

    /** Zeroed native memory for an ioctl argument; freed when unreachable. */
    static Pointer allocate(int size) {
        return Memory.allocateDirect(Runtime.getSystemRuntime(), size, true);
    }
}
