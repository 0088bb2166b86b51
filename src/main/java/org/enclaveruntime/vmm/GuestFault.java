package org.enclaveruntime.vmm;

import org.enclaveruntime.memory.GuestMemory;

import java.util.List;

/**
 * A CPU exception in the guest as the fault stub reported it: the vector, the error code, the interrupted
 * rip/cs/rflags/rsp/ss, CR2 and the general registers at the fault ({@link FaultStub} writes the frame).
 */
record GuestFault(int vector, long errorCode, long rip, long cs, long rflags, long rsp, long ss, long cr2,
        List<Long> generalRegisters) {

    private static final String[] REGISTER_NAMES = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9",
            "r10", "r11", "r12", "r13", "r14", "r15"};
    private static final int PAGE_FAULT = 14;

    /** Reads the frame the stub left on vCPU {@code vcpu}'s fault stack. */
    static GuestFault read(GuestMemory m, int vcpu) {
        long at = FaultStub.frame(vcpu);
        long[] q = new long[FaultStub.FRAME_QWORDS];
        for (int i = 0; i < q.length; i++) {
            q[i] = m.readU64(at + 8L * i);
        }
        Long[] gprs = new Long[REGISTER_NAMES.length];
        for (int i = 0; i < gprs.length; i++) {
            gprs[i] = q[1 + i];
        }
        return new GuestFault((int) q[16], q[17], q[18], q[19], q[20], q[21], q[22], q[0], List.of(gprs));
    }

    /** Whether the frame is one the stub wrote for this vector: it reports only faults from ring 3. */
    boolean isFromStub(long portValue) {
        return vector == portValue && vector >= 0 && vector < FaultStub.EXCEPTION_VECTORS && (cs & 3) == 3;
    }

    /** "#PF page fault at rip=0x100010, cr2=0x10000, error code 0x7 (protection, write, user)". */
    String describe() {
        StringBuilder b = new StringBuilder(name(vector)).append(" at rip=0x").append(Long.toHexString(rip))
                .append(", cr2=0x").append(Long.toHexString(cr2));
        b.append(", error code 0x").append(Long.toHexString(errorCode));
        if (vector == PAGE_FAULT) {
            b.append(" (").append((errorCode & 1) != 0 ? "protection" : "not present")
                    .append((errorCode & 0x10) != 0 ? ", instruction fetch" : (errorCode & 2) != 0 ? ", write" : ", read")
                    .append((errorCode & 4) != 0 ? ", user" : ", supervisor")
                    .append((errorCode & 8) != 0 ? ", reserved bit" : "").append(')');
        }
        return b.toString();
    }

    /** The interrupted context, in the format of the register dump of a triple fault. */
    String registers() {
        StringBuilder b = new StringBuilder(400);
        hex(b, "rip", rip).append(' ');
        hex(b, "rsp", rsp).append(' ');
        hex(b, "rflags", rflags).append(' ');
        hex(b, "cr2", cr2).append(' ');
        hex(b, "cs", cs).append(' ');
        hex(b, "ss", ss);
        for (int i = 0; i < REGISTER_NAMES.length; i++) {
            hex(b.append(' '), REGISTER_NAMES[i], generalRegisters.get(i));
        }
        return b.toString();
    }

    private static StringBuilder hex(StringBuilder b, String name, long value) {
        return b.append(name).append("=0x").append(Long.toHexString(value));
    }

    /** The architectural mnemonic and name of an exception vector. */
    static String name(int vector) {
        return switch (vector) {
            case 0 -> "#DE divide error";
            case 1 -> "#DB debug";
            case 2 -> "NMI";
            case 3 -> "#BP breakpoint";
            case 4 -> "#OF overflow";
            case 5 -> "#BR bound range exceeded";
            case 6 -> "#UD invalid opcode";
            case 7 -> "#NM device not available";
            case 8 -> "#DF double fault";
            case 9 -> "coprocessor segment overrun";
            case 10 -> "#TS invalid TSS";
            case 11 -> "#NP segment not present";
            case 12 -> "#SS stack-segment fault";
            case 13 -> "#GP general protection";
            case 14 -> "#PF page fault";
            case 16 -> "#MF x87 floating-point error";
            case 17 -> "#AC alignment check";
            case 18 -> "#MC machine check";
            case 19 -> "#XM SIMD floating-point exception";
            case 20 -> "#VE virtualization exception";
            case 21 -> "#CP control protection";
            case 28 -> "#HV hypervisor injection";
            case 29 -> "#VC VMM communication";
            case 30 -> "#SX security exception";
            default -> "exception vector " + vector;
        };
    }
}
