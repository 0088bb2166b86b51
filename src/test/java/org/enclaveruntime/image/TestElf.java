package org.enclaveruntime.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** Runtime ELFs for tests: a synthetic one with every field under control, and one compiled by gcc. */
final class TestElf {
    static final int EHDR = 64;
    static final int PHDR = 56;

    private TestElf() {
    }

    /**
     * ELF64 x86-64 ET_EXEC with one R+X PT_LOAD covering the whole file at 1 MiB, entry right after the
     * program header, followed by {@code codeSize} bytes derived from {@code seed}.
     */
    static byte[] minimal(int codeSize, long seed) {
        int size = EHDR + PHDR + codeSize;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464C457F);
        b.put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1);
        b.putLong(24, RuntimeElf.LOAD_BASE + EHDR + PHDR);
        b.putLong(32, EHDR);
        b.putShort(52, (short) EHDR).putShort(54, (short) PHDR).putShort(56, (short) 1);
        b.putInt(EHDR, 1).putInt(EHDR + 4, 5);
        b.putLong(EHDR + 8, 0).putLong(EHDR + 16, RuntimeElf.LOAD_BASE).putLong(EHDR + 24, RuntimeElf.LOAD_BASE);
        b.putLong(EHDR + 32, size).putLong(EHDR + 40, size + 0x2000L).putLong(EHDR + 48, 0x1000);
        byte[] code = new byte[codeSize];
        new Random(seed).nextBytes(code);
        b.put(EHDR + PHDR, code);
        return b.array();
    }

    /** Where {@link #twoSegments()} puts its code, data and entry point. */
    static final long TEXT = RuntimeElf.LOAD_BASE;
    static final long DATA = RuntimeElf.LOAD_BASE + 0x1000;
    static final long ENTRY = TEXT + 0x100;
    static final int TEXT_SIZE = 0x200;
    static final int DATA_FILE_SIZE = 0x40;
    static final long DATA_MEM_SIZE = 0x1040;

    /**
     * The shape src/guest/enclave.ld gives the runtime, written field by field: code R+X at 1 MiB (its file
     * bytes start with the headers, as ld's do), data R+W on the next page with .bss after its file bytes,
     * and a PT_GNU_STACK, which is not loaded. Program headers: 0 text, 1 data, 2 stack.
     */
    static byte[] twoSegments() {
        int size = TEXT_SIZE + DATA_FILE_SIZE;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464C457F);
        b.put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1);
        b.putLong(24, ENTRY).putLong(32, EHDR);
        b.putShort(52, (short) EHDR).putShort(54, (short) PHDR).putShort(56, (short) 3);
        programHeader(b, 0, 1, 5, 0, TEXT, TEXT_SIZE, TEXT_SIZE);
        programHeader(b, 1, 1, 6, TEXT_SIZE, DATA, DATA_FILE_SIZE, DATA_MEM_SIZE);
        programHeader(b, 2, 0x6474E551, 6, 0, 0, 0, 0);
        for (int i = EHDR + 3 * PHDR; i < size; i++) {
            b.put(i, (byte) (i * 7 + 1));
        }
        return b.array();
    }

    static void programHeader(ByteBuffer b, int index, int type, int flags, long offset, long address,
                              long fileSize, long memSize) {
        int at = EHDR + index * PHDR;
        b.putInt(at, type).putInt(at + 4, flags).putLong(at + 8, offset).putLong(at + 16, address)
                .putLong(at + 24, address).putLong(at + 32, fileSize).putLong(at + 40, memSize)
                .putLong(at + 48, 0x1000);
    }

    /** Compiles a tiny freestanding runtime (it writes SHUTDOWN 0) with gcc, linked at 1 MiB. */
    static Path compiled(Path dir) throws IOException, InterruptedException {
        Path c = dir.resolve("runtime.c");
        Files.writeString(c, "void _start(void) {\n"
                + "    for (;;) __asm__ volatile(\"outl %0, %1\" :: \"a\"(0), \"Nd\"((unsigned short)0x501));\n}\n");
        Path elf = dir.resolve("runtime.elf");
        Process p = new ProcessBuilder("gcc", "-static", "-nostdlib", "-ffreestanding", "-fno-pie", "-no-pie", "-O2",
                "-Wl,-Ttext-segment=0x100000", "-Wl,--build-id=none", "-o", elf.toString(), c.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("gcc failed: " + output);
        }
        return elf;
    }
}
