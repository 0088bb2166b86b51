package org.enclaveruntime.vmm;

import org.enclaveruntime.devices.HypercallPorts;
import org.enclaveruntime.memory.GuestMemory;

import java.io.ByteArrayOutputStream;

/**
 * The IDT and the ring-0 fault stub of docs/guest-abi.md ("Faults"), emitted by the VMM: the runtime image
 * knows nothing of them. Every exception gate (vector 0..31 but #DF) is a 64-bit interrupt gate to
 * CS 0x08, IST1, so the CPU switches to the faulting vCPU's own fault stack whatever the guest's RSP was.
 * The stub saves the general registers and CR2 beside the CPU's frame and writes the vector to the FAULT
 * port; the VMM reads the frame ({@link GuestFault}) and never resumes the vCPU.
 *
 * <p>Beside the fault gates, vector 0x20 is the TLB flush gate of docs/module-runtime.md: a DPL-3 interrupt gate
 * (so ring 3 may `int $0x20`) to a five-instruction stub that reloads CR3 on the vCPU's flush stack (IST2),
 * never on the fault stack, so a flush cannot overwrite a fault frame the VMM is about to read.
 *
 * <p>The triple fault stays the last resort: #DF has no gate, so a fault while delivering a fault shuts the
 * vCPU down; and a fault whose interrupted CS has RPL 0 (the stub itself faulted: nothing else runs in ring
 * 0) is not reported but turned into a triple fault by loading an empty IDT and executing ud2.
 */
final class FaultStub {
    private FaultStub() {
    }

    static final int EXCEPTION_VECTORS = 32;
    static final int DOUBLE_FAULT = 8;
    /** Vectors for which the CPU pushes an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
    private static final long ERROR_CODE_VECTORS = (1L << 8) | (1L << 10) | (1L << 11) | (1L << 12) | (1L << 13)
            | (1L << 14) | (1L << 17) | (1L << 21) | (1L << 29) | (1L << 30);
    /**
     * What the stub leaves at the top of the fault stack, lowest address first: cr2, rax, rbx, rcx, rdx, rsi,
     * rdi, rbp, r8..r15, vector, error code (0 if the CPU pushes none), then the CPU's rip, cs, rflags, rsp, ss.
     */
    static final int FRAME_QWORDS = 23;
    private static final int GATE_BYTES = 16;
    /** P=1, DPL=0, type 0xE: 64-bit interrupt gate (IF cleared on entry). */
    private static final int INTERRUPT_GATE = 0x8E;
    /** P=1, DPL=3, type 0xE: the flush gate, which ring 3 may raise with `int`. */
    private static final int USER_INTERRUPT_GATE = 0xEE;
    private static final int FAULT_IST = 1;
    private static final int FLUSH_IST = 2;
    /** The TLB flush gate's vector (docs/module-runtime.md, "TLB"). */
    static final int FLUSH_VECTOR = 0x20;

    static long frame(int vcpu) {
        return GuestLayout.faultStackTop(vcpu) - 8L * FRAME_QWORDS;
    }

    /** Writes the stub page, the IDT and zeroed fault stacks for {@code vcpus} vCPUs. */
    static void write(GuestMemory m, int vcpus) {
        ByteArrayOutputStream code = new ByteArrayOutputStream();
        code.writeBytes(common(HypercallPorts.BASE + HypercallPorts.FAULT));
        m.zero(GuestLayout.IDT_GPA, 0x1000);
        for (int vector = 0; vector < EXCEPTION_VECTORS; vector++) {
            if (vector == DOUBLE_FAULT) {
                continue;
            }
            writeGate(m, vector, GuestLayout.FAULT_STUB_GPA + code.size(), INTERRUPT_GATE, FAULT_IST);
            if ((ERROR_CODE_VECTORS & (1L << vector)) == 0) {
                code.writeBytes(new byte[] {0x6a, 0x00}); // push $0: the error code the CPU did not push
            }
            code.writeBytes(new byte[] {0x6a, (byte) vector}); // push $vector
            int rel = -(code.size() + 5); // jmp common (offset 0)
            code.writeBytes(new byte[] {(byte) 0xe9, (byte) rel, (byte) (rel >> 8), (byte) (rel >> 16),
                    (byte) (rel >> 24)});
        }
        writeGate(m, FLUSH_VECTOR, GuestLayout.FAULT_STUB_GPA + code.size(), USER_INTERRUPT_GATE, FLUSH_IST);
        code.writeBytes(flush());
        m.zero(GuestLayout.FAULT_STUB_GPA, 0x1000);
        byte[] bytes = code.toByteArray();
        m.write(GuestLayout.FAULT_STUB_GPA, bytes, 0, bytes.length);
        m.zero(GuestLayout.FAULT_STACKS_GPA, (long) vcpus * GuestLayout.FAULT_STACK_SIZE);
        m.zero(GuestLayout.FLUSH_STACKS_GPA, (long) vcpus * GuestLayout.FLUSH_STACK_SIZE);
    }

    private static void writeGate(GuestMemory m, int vector, long handler, int type, int ist) {
        long gate = GuestLayout.IDT_GPA + (long) vector * GATE_BYTES;
        long low = (handler & 0xffff) | ((long) GuestLayout.SELECTOR_CODE0 << 16) | ((long) ist << 32)
                | ((long) type << 40) | (((handler >>> 16) & 0xffff) << 48);
        m.writeU64(gate, low);
        m.writeU64(gate + 8, handler >>> 32);
    }

    /**
     * Entered with the vector and the error code pushed on the IST1 stack (GNU as, .code64):
     * <pre>
     *     testb $3, 24(%rsp)      # the interrupted CS: RPL 0 means the stub itself faulted
     *     jz 2f
     *     push %r15 ... push %rax # 15 registers, rax last
     *     mov %cr2, %rax
     *     push %rax
     *     mov 128(%rsp), %eax     # the vector
     *     mov $FAULT_PORT, %edx
     *     out %eax, (%dx)
     * 1:  pause
     *     jmp 1b                  # the VMM never resumes it
     * 2:  pushq $0
     *     pushq $0
     *     lidt (%rsp)             # an empty IDT: the ud2 below cannot be delivered -> triple fault
     *     ud2
     * </pre>
     */
    /**
     * The TLB flush: no page is global (CR4.PGE is clear), so reloading CR3 drops every translation of this
     * vCPU. Entered on the IST2 stack with interrupts off; a fault in here has RPL 0 and ends as a triple fault.
     * <pre>
     *     push %rax
     *     mov %cr3, %rax
     *     mov %rax, %cr3
     *     pop %rax
     *     iretq
     * </pre>
     */
    private static byte[] flush() {
        return java.util.HexFormat.of().parseHex("50" + "0f20d8" + "0f22d8" + "58" + "48cf");
    }

    private static byte[] common(int port) {
        String hex = "f644241803" + "742c"
                + "4157" + "4156" + "4155" + "4154" + "4153" + "4152" + "4151" + "4150"
                + "55" + "57" + "56" + "52" + "51" + "53" + "50"
                + "0f20d0" + "50"
                + "8b842480000000"
                + "ba" + String.format("%02x%02x0000", port & 0xff, (port >> 8) & 0xff) + "ef"
                + "f390" + "ebfc"
                + "6a00" + "6a00" + "0f011c24" + "0f0b";
        return java.util.HexFormat.of().parseHex(hex);
    }
}
