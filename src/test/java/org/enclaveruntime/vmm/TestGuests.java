package org.enclaveruntime.vmm;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * Tiny machine-code guests (assembled once with GNU as; the source is beside each) wrapped in an ELF64
 * executable loaded at 1 MiB, and the real guests of the guest branch when they are built.
 */
public final class TestGuests {
    private TestGuests() {
    }

    static final long LOAD_GPA = 0x100000;

    /** READY; SHUTDOWN 7. */
    static final String EXIT_7 = "ba00050000b801000000ef"   // mov $0x500,%edx; mov $1,%eax; out %eax,(%dx)
            + "ba01050000b807000000ef"                       // mov $0x501,%edx; mov $7,%eax; out %eax,(%dx)
            + "ebfe";                                        // 1: jmp 1b

    /**
     * Every vCPU REPORTs its index (rdi) and increments control.online_vcpus; vCPU 0 waits for all of them
     * (boot_info.vcpu_count) and writes READY. Then each idles: poll control.shutdown_requested, WAIT; when
     * it is set vCPU 0 writes SHUTDOWN 0.
     */
    static final String IDLE = "89f8ba05050000ef"          // mov %edi,%eax; mov $0x505,%edx; out
            + "f0ff042504900000"                             // lock incl 0x9004
            + "85ff751b"                                     // test %edi,%edi; jnz idle
            + "8b042504900000" + "3b042508800000" + "72f0"   // 2: mov 0x9004,%eax; cmp 0x8008,%eax; jb 2b
            + "ba00050000b801000000ef"                       // READY
            + "8b04250090000085c07508"                       // idle: mov 0x9000,%eax; test; jnz stop
            + "ba03050000efebed"                             // mov $0x503,%edx; out (WAIT); jmp idle
            + "85ff75e9"                                     // stop: test %edi,%edi; jnz idle
            + "ba0105000031c0efebfe";                        // SHUTDOWN 0; jmp .

    /** READY, then spins forever ignoring every shutdown request. */
    static final String SPIN = "ba00050000b801000000ef" + "ebfe";

    /** Loads from the unmapped null page: #PF (not present, read, user), cr2 0, at the first instruction. */
    static final String NULL_READ = "488b042500000000" + "ebfe"; // mov 0x0,%rax; jmp .

    /** movq $1, 0x10000: writes the PML4 (supervisor-only). */
    static final String WRITE_PAGE_TABLES = "48c7042500000100" + "01000000" + "ebfe";

    /** mov 0x3000,%rax: reads the IDT (supervisor-only). */
    static final String READ_IDT = "488b042500300000" + "ebfe";

    /** movb $0xff, 0x88000: sets a bit of the TSS I/O permission bitmap (supervisor-only). */
    static final String WRITE_IO_BITMAP = "c6042500800800ff" + "ebfe";

    /** movl $0, 0x8000: writes boot info (user read-only). */
    static final String WRITE_BOOT_INFO = "c704250080000000000000" + "ebfe";

    /** movb $0x90, 0x100000: writes its own code (PT_LOAD R+X). */
    static final String WRITE_OWN_CODE = "c604250000100090" + "ebfe";

    /** mov $0x200000,%eax; jmp *%rax: jumps into free RAM (RW+NX). */
    static final String EXECUTE_DATA = "b800002000" + "ffe0";

    /** 1: push %rax; jmp 1b: runs the stack down into the guard page below it. */
    static final String STACK_OVERFLOW = "50" + "ebfd";

    /** ud2. */
    static final String INVALID_OPCODE = "0f0b";

    /** int $8 from ring 3: the gate's DPL is 0, so #GP with error code 8 * 8 + 2. */
    static final String INT_8 = "cd08" + "ebfe";

    /** hlt at CPL 3: #GP(0). */
    static final String HLT = "f4" + "ebfe";

    /** Writes 14 to the FAULT port itself: a report that did not come from the fault stub. */
    static final String FORGED_FAULT = "ba06050000b80e000000ef" + "ebfe";

    /** vCPU 0 spins; vCPU 1 reads the null page. */
    static final String SECOND_VCPU_FAULTS = "85ff7502ebfe" + "488b042500000000" + "ebfe"; // test %edi,%edi; jnz 1f; jmp .; 1: mov 0x0,%rax

    /** PANIC with the message "boom\x01\\!" placed right after the code. */
    static final String PANIC = "488d0508000000"              // lea msg(%rip),%rax
            + "ba02050000ef" + "ebfe"                        // mov $0x502,%edx; out; jmp .
            + "626f6f6d015c2100";                            // msg: .asciz "boom\x01\\!"

    /**
     * Writes 0x1234 to port 0x600 and reads it back; writes 5 to ram_size + 0x1ff000 (the last page of the
     * device window) and reads it back; REPORTs both reads; SHUTDOWN 0.
     */
    static final String UNCLAIMED = "ba00060000b834120000efed"  // mov $0x600,%edx; mov $0x1234,%eax; out; in
            + "ba05050000ef"                                    // REPORT eax
            + "488b1c2510800000" + "4881c300f01f00"             // mov 0x8010,%rbx; add $0x1ff000,%rbx
            + "c70305000000" + "8b03"                           // movl $5,(%rbx); mov (%rbx),%eax
            + "ba05050000ef"                                    // REPORT eax
            + "ba0105000031c0efebfe";                           // SHUTDOWN 0

    /** REPORTs rsp, rsi, boot_info.magic, cs, ss, rflags and rsp again; SHUTDOWN 0. */
    static final String ENTRY_STATE = "ba05050000"              // mov $0x505,%edx
            + "4889e0ef" + "4889f0ef"                           // rsp; rsi
            + "8b042500800000ef"                                // mov 0x8000,%eax
            + "8cc8ef" + "8cd0ef"                               // cs; ss
            + "9c58ef" + "4889e0ef"                             // pushf; pop %rax; rsp
            + "ba0105000031c0efebfe";                           // SHUTDOWN 0

    static byte[] elf(String hexCode) {
        return elf(HexFormat.of().parseHex(hexCode), LOAD_GPA, LOAD_GPA);
    }

    /** A minimal ELF64 x86-64 ET_EXEC with one PT_LOAD of {@code code} at {@code gpa}. */
    static byte[] elf(byte[] code, long gpa, long entry) {
        int headers = 64 + 56;
        ByteBuffer b = ByteBuffer.allocate(headers + code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        b.position(16);
        b.putShort((short) 2).putShort((short) 62).putInt(1).putLong(entry).putLong(64).putLong(0);
        b.putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) 1);
        b.putShort((short) 64).putShort((short) 0).putShort((short) 0);
        // program header
        b.putInt(1).putInt(5).putLong(headers).putLong(gpa).putLong(gpa);
        b.putLong(code.length).putLong(code.length + 64L).putLong(0x1000);
        b.put(code);
        return b.array();
    }

    /** A guest built by the guest branch (target/guest/NAME), or null when it is not built. */
    public static byte[] built(String name) {
        Path p = Path.of(System.getProperty("enclave.build.dir", "target"), "guest", name);
        try {
            return Files.exists(p) ? Files.readAllBytes(p) : null;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
