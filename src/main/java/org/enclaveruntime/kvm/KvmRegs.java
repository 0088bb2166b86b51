package org.enclaveruntime.kvm;

import jnr.ffi.Pointer;

/** A struct kvm_regs in native memory, reused for every GET/SET_REGS of one vCPU. */
public final class KvmRegs {
    final Pointer buffer = KvmCalls.allocate(KvmAbi.Regs.SIZE);

    /** Reads a register by its {@link KvmAbi.Regs} offset. */
    public long get(int offset) {
        return buffer.getLong(offset);
    }

    public void set(int offset, long value) {
        buffer.putLong(offset, value);
    }
}
