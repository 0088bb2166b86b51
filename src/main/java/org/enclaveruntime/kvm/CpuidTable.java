package org.enclaveruntime.kvm;

import jnr.ffi.Pointer;

/**
 * A struct kvm_cpuid2 with its entries, in native memory, as KVM_GET_SUPPORTED_CPUID returned it. The VMM
 * copies it per vCPU, adjusts a few leaves (the APIC id) and hands it to KVM_SET_CPUID2.
 */
public final class CpuidTable {
    private final Pointer buffer;
    private final int count;

    CpuidTable(Pointer buffer, int count) {
        this.buffer = buffer;
        this.count = count;
    }

    public int count() {
        return count;
    }

    private long entry(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("cpuid entry " + i + " of " + count);
        }
        return KvmAbi.Cpuid2.ENTRIES + (long) i * KvmAbi.CpuidEntry2.SIZE;
    }

    public int function(int i) {
        return buffer.getInt(entry(i) + KvmAbi.CpuidEntry2.FUNCTION);
    }

    public int index(int i) {
        return buffer.getInt(entry(i) + KvmAbi.CpuidEntry2.INDEX);
    }

    public int eax(int i) {
        return buffer.getInt(entry(i) + KvmAbi.CpuidEntry2.EAX);
    }

    public int ebx(int i) {
        return buffer.getInt(entry(i) + KvmAbi.CpuidEntry2.EBX);
    }

    public int ecx(int i) {
        return buffer.getInt(entry(i) + KvmAbi.CpuidEntry2.ECX);
    }

    public int edx(int i) {
        return buffer.getInt(entry(i) + KvmAbi.CpuidEntry2.EDX);
    }

    public void setEbx(int i, int value) {
        buffer.putInt(entry(i) + KvmAbi.CpuidEntry2.EBX, value);
    }

    public void setEdx(int i, int value) {
        buffer.putInt(entry(i) + KvmAbi.CpuidEntry2.EDX, value);
    }

    /** An independent copy (each vCPU gets its own table). */
    public CpuidTable copy() {
        int size = KvmAbi.Cpuid2.SIZE + count * KvmAbi.CpuidEntry2.SIZE;
        Pointer copy = KvmCalls.allocate(size);
        buffer.transferTo(0, copy, 0, size);
        return new CpuidTable(copy, count);
    }

    Pointer pointer() {
        return buffer;
    }
}
