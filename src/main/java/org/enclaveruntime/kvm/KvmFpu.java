package org.enclaveruntime.kvm;

import jnr.ffi.Pointer;

/** A struct kvm_fpu in native memory: the x87 and SSE state KVM_SET_FPU loads. Starts all zero. */
public final class KvmFpu {
    final Pointer buffer = KvmCalls.allocate(KvmAbi.Fpu.SIZE);

    public int controlWord() {
        return buffer.getShort(KvmAbi.Fpu.FCW) & 0xffff;
    }

    public void setControlWord(int fcw) {
        buffer.putShort(KvmAbi.Fpu.FCW, (short) fcw);
    }

    public int mxcsr() {
        return buffer.getInt(KvmAbi.Fpu.MXCSR);
    }

    public void setMxcsr(int mxcsr) {
        buffer.putInt(KvmAbi.Fpu.MXCSR, mxcsr);
    }
}
