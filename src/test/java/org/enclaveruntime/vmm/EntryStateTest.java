package org.enclaveruntime.vmm;

import org.enclaveruntime.kvm.KvmAbi;
import org.enclaveruntime.kvm.KvmFpu;
import org.enclaveruntime.kvm.KvmSregs;
import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The vCPU entry state VmBuilder hands KVM, checked without KVM: the control registers of docs/guest-abi.md
 * "Entry state of every vCPU" (SSE enabled for module code, AVX not), the x87/SSE state, and the boot info flag
 * that tells the guest so.
 */
class EntryStateTest {
    private static final long PAE = 1L << 5, OSFXSR = 1L << 9, OSXMMEXCPT = 1L << 10, OSXSAVE = 1L << 18;
    private static final long CR0_EM = 1L << 2, CR0_TS = 1L << 3, CR0_MP = 1L << 1;

    @Test
    void sseIsEnabledAndAvxIsNot() {
        for (int index : new int[] {0, 2}) {
            KvmSregs s = new KvmSregs();
            VmBuilder.entrySregs(s, 3, index);
            long cr4 = s.get(KvmAbi.Sregs.CR4);
            assertEquals(PAE | OSFXSR | OSXMMEXCPT, cr4 & (PAE | OSFXSR | OSXMMEXCPT),
                    "vCPU " + index + ": CR4 0x" + Long.toHexString(cr4) + " has PAE, OSFXSR and OSXMMEXCPT");
            assertEquals(0, cr4 & OSXSAVE, "no OSXSAVE: AVX and XSAVE stay #UD");
            long cr0 = s.get(KvmAbi.Sregs.CR0);
            assertEquals(CR0_MP, cr0 & (CR0_EM | CR0_TS | CR0_MP), "CR0: MP set, EM and TS clear (no #NM, no x87 emulation)");
            assertEquals(GuestLayout.tssSelector(index), s.selector(KvmAbi.Sregs.TR), "TR of vCPU " + index);
        }
    }

    @Test
    void fpuStartsCleanWithEveryExceptionMasked() {
        KvmFpu f = VmBuilder.entryFpu();
        assertEquals(0x1f80, f.mxcsr(), "MXCSR: all six SIMD exceptions masked, round to nearest");
        assertEquals(0x37f, f.controlWord(), "x87 control word as after FNINIT");
    }

    @Test
    void bootInfoSaysSse() {
        try (GuestMemory m = GuestMemory.create(8L << 20, MemoryBacking.ORDINARY)) {
            for (boolean debug : new boolean[] {false, true}) {
                GuestLayout.writeBootInfo(m, 1, debug, 8L << 20, GuestLayout.IMAGE_GPA + 0x4000, 3);
                int flags = (int) m.readU32(GuestLayout.BOOT_INFO_GPA + GuestLayout.BOOT_INFO_FLAGS_OFFSET);
                assertEquals(GuestLayout.BOOT_FLAG_SSE, flags & GuestLayout.BOOT_FLAG_SSE, "SSE flag, debug " + debug);
                assertEquals(debug ? 1 : 0, flags & GuestLayout.BOOT_FLAG_DEBUG, "debug flag");
            }
        }
    }
}
