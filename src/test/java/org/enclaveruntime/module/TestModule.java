package org.enclaveruntime.module;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The test module the build compiles (src/guest/modules/test-module.c into target/guest/modules), and edits of
 * its bytes that tests make to break one rule at a time. Offsets are found by reading the ELF here, with the
 * standard layouts, not by trusting the parser under test.
 */
final class TestModule {
    static final int PT_LOAD = 1;
    static final int PT_DYNAMIC = 2;

    private TestModule() {
    }

    static Path path() {
        Path p = Path.of(System.getProperty("enclave.build.dir", "target"), "guest", "modules", "test-module.so");
        assertTrue(Files.isRegularFile(p), p + " is not built (mvn generate-resources builds it)");
        return p;
    }

    static byte[] bytes() {
        try {
            return Files.readAllBytes(path());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** File offset of program header {@code i}. */
    static int phdr(byte[] elf, int i) {
        return (int) le(elf).getLong(32) + i * 56;
    }

    static int phnum(byte[] elf) {
        return Short.toUnsignedInt(le(elf).getShort(56));
    }

    /** Index of the n-th (0-based) program header of {@code type}. */
    static int header(byte[] elf, int type, int n) {
        for (int i = 0, seen = 0; i < phnum(elf); i++) {
            if (le(elf).getInt(phdr(elf, i)) == type && seen++ == n) {
                return i;
            }
        }
        throw new AssertionError("no program header " + n + " of type " + type);
    }

    /** File offset of module address {@code vaddr}, through the PT_LOAD that holds it in the file. */
    static int fileOffset(byte[] elf, long vaddr) {
        ByteBuffer b = le(elf);
        for (int i = 0; i < phnum(elf); i++) {
            int at = phdr(elf, i);
            long v = b.getLong(at + 16);
            if (b.getInt(at) == PT_LOAD && vaddr >= v && vaddr < v + b.getLong(at + 32)) {
                return (int) (b.getLong(at + 8) + vaddr - v);
            }
        }
        throw new AssertionError("address 0x" + Long.toHexString(vaddr) + " is in no segment's file bytes");
    }

    /** File offset of the dynamic entry with {@code tag}. */
    static int dynamicEntry(byte[] elf, long tag) {
        ByteBuffer b = le(elf);
        int at = (int) b.getLong(phdr(elf, header(elf, PT_DYNAMIC, 0)) + 8);
        for (int e = at; b.getLong(e) != 0; e += 16) {
            if (b.getLong(e) == tag) {
                return e;
            }
        }
        throw new AssertionError("no dynamic tag " + tag);
    }

    /** File offset of entry {@code i} of .rela.dyn (DT_RELA = 7). */
    static int rela(byte[] elf, int i) {
        return fileOffset(elf, le(elf).getLong(dynamicEntry(elf, 7) + 8)) + 24 * i;
    }

    static int find(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        fail("byte pattern not found in the test module");
        return -1;
    }
}
