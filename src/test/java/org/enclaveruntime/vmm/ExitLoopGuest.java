package org.enclaveruntime.vmm;

import java.io.ByteArrayOutputStream;

/**
 * Machine-code guests that make one kind of exit {@code n} times in a tight loop, then REPORT {@link #DONE}
 * and WAIT in a loop, so that a test can look at the vCPU thread while it is idle (parked, or for the WAIT
 * kind, whose WAITs return at once, making more exits of the kind measured).
 */
final class ExitLoopGuest {
    /** REPORTed once the loop is over. */
    static final long DONE = 0x0D0E;

    /** One kind of exit: its set-up and its loop body (ecx is the loop counter and must be left alone). */
    enum Kind {
        /** REPORT (0x505): recorded in the ring. */
        REPORT("ba05050000", "ef"),
        /** WAIT (0x503) once shutdown is requested: returns at once. Spins until the flag is set first. */
        WAIT("8b04250090000085c074f5" + "ba03050000", "ef"),
        /** NOTIFY as the ABI says, 32 bits: the ioeventfd takes it, no exit at all. */
        NOTIFY("ba04050000", "ef"),
        /** `in` from unclaimed port 0x600. */
        UNCLAIMED_PORT_READ("ba00060000", "ed"),
        /** `out` to unclaimed port 0x600. */
        UNCLAIMED_PORT_WRITE("ba00060000", "ef"),
        /** A read of the never-claimed last page of the device window (rbx = ram_size + 0x1ff000). */
        UNCLAIMED_MMIO_READ("488b1c2510800000" + "4881c300f01f00", "8b03"),
        /** A write there. */
        UNCLAIMED_MMIO_WRITE("488b1c2510800000" + "4881c300f01f00", "8903"),
        /** A byte to COM1's THR without debug: dropped (mov $0x3f8,%edx; mov $0x41,%al; three nops). */
        SERIAL("baf8030000b041909090", "ee");

        final String setup;
        final String body;

        Kind(String setup, String body) {
            this.setup = setup;
            this.body = body;
        }
    }

    private ExitLoopGuest() {
    }

    static byte[] elf(Kind kind, int n) {
        ByteArrayOutputStream code = new ByteArrayOutputStream();
        hex(code, kind.setup);
        code.write(0xb9); // mov $n,%ecx
        le32(code, n);
        byte[] body = java.util.HexFormat.of().parseHex(kind.body);
        code.writeBytes(body);
        hex(code, "ffc9"); // dec %ecx
        code.write(0x75); // jnz back to the body
        code.write(-(body.length + 4));
        hex(code, "ba05050000"); // mov $0x505,%edx
        code.write(0xb8); // mov $DONE,%eax
        le32(code, (int) DONE);
        hex(code, "ef"); // out
        hex(code, "ba03050000" + "ef" + "ebfd"); // mov $0x503,%edx; 1: out (WAIT); jmp 1b
        return TestGuests.elf(java.util.HexFormat.of().formatHex(code.toByteArray()));
    }

    private static void hex(ByteArrayOutputStream out, String hex) {
        out.writeBytes(java.util.HexFormat.of().parseHex(hex));
    }

    private static void le32(ByteArrayOutputStream out, int v) {
        for (int i = 0; i < 4; i++) {
            out.write(v >>> (8 * i));
        }
    }
}
