package org.enclaveruntime.kvm;

import jnr.ffi.Pointer;

/** A struct kvm_sregs in native memory with accessors for what the VMM sets and reports. */
public final class KvmSregs {
    final Pointer buffer = KvmCalls.allocate(KvmAbi.Sregs.SIZE);

    /** Reads a u64 control register by its {@link KvmAbi.Sregs} offset (CR0, CR3, EFER, ...). */
    public long get(int offset) {
        return buffer.getLong(offset);
    }

    public void set(int offset, long value) {
        buffer.putLong(offset, value);
    }

    /** Sets a descriptor table (GDT or IDT) register. */
    public void setTable(int tableOffset, long base, int limit) {
        buffer.putLong(tableOffset + KvmAbi.Dtable.BASE, base);
        buffer.putShort(tableOffset + KvmAbi.Dtable.LIMIT, (short) limit);
    }

    /** Sets a segment register (its hidden part included) from a 64-bit-mode flat descriptor. */
    public void setSegment(int segmentOffset, Segment s) {
        long o = segmentOffset;
        buffer.putLong(o + KvmAbi.Segment.BASE, s.base());
        buffer.putInt(o + KvmAbi.Segment.LIMIT, s.limit());
        buffer.putShort(o + KvmAbi.Segment.SELECTOR, (short) s.selector());
        buffer.putByte(o + KvmAbi.Segment.TYPE, (byte) s.type());
        buffer.putByte(o + KvmAbi.Segment.PRESENT, (byte) 1);
        buffer.putByte(o + KvmAbi.Segment.DPL, (byte) s.dpl());
        buffer.putByte(o + KvmAbi.Segment.DB, (byte) (s.db() ? 1 : 0));
        buffer.putByte(o + KvmAbi.Segment.S, (byte) 1);
        buffer.putByte(o + KvmAbi.Segment.L, (byte) (s.longMode() ? 1 : 0));
        buffer.putByte(o + KvmAbi.Segment.G, (byte) 1);
        buffer.putByte(o + KvmAbi.Segment.AVL, (byte) 0);
        buffer.putByte(o + KvmAbi.Segment.UNUSABLE, (byte) 0);
    }

    /** Sets TR to a present, busy 64-bit TSS (type 11), as long mode requires. */
    public void setTaskRegister(long base, int limit, int selector) {
        long o = KvmAbi.Sregs.TR;
        buffer.setMemory(o, KvmAbi.Segment.SIZE, (byte) 0);
        buffer.putLong(o + KvmAbi.Segment.BASE, base);
        buffer.putInt(o + KvmAbi.Segment.LIMIT, limit);
        buffer.putShort(o + KvmAbi.Segment.SELECTOR, (short) selector);
        buffer.putByte(o + KvmAbi.Segment.TYPE, (byte) 11);
        buffer.putByte(o + KvmAbi.Segment.PRESENT, (byte) 1);
    }

    public int selector(int segmentOffset) {
        return buffer.getShort(segmentOffset + KvmAbi.Segment.SELECTOR) & 0xffff;
    }

    /** A present, non-system, page-granular segment as the VMM loads it. */
    public record Segment(long base, int limit, int selector, int type, int dpl, boolean db, boolean longMode) {
    }
}
