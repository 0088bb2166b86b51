package org.enclaveruntime.module;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.image.Sha384;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The module ELF rules (docs/module-format.md, "The module ELF") on the built test module and edits of it. */
class ModuleElfTest {
    private final byte[] module = TestModule.bytes();

    @Test
    void theTestModuleParsesWithEachRelocationTheLoaderApplies() {
        ModuleElf elf = ModuleElf.parse(module, "test-module.so");
        assertEquals(List.of("enclave_api_print", "enclave_api_version", "enclave_ocall", "memcpy", "strlen"),
                elf.imports());
        assertEquals(List.of(ModuleElf.R_X86_64_GLOB_DAT, ModuleElf.R_X86_64_JUMP_SLOT, ModuleElf.R_X86_64_RELATIVE),
                elf.relocations().stream().map(ModuleElf.Relocation::type).distinct().sorted().toList());
        assertTrue(elf.segments().stream().anyMatch(ModuleElf.Segment::executable));
        assertTrue(elf.segments().stream().noneMatch(s -> s.writable() && s.executable()));
    }

    /** The definition in docs/module-format.md, computed here from the program headers. */
    @Test
    void theMeasurementIsTheDocumentedHash() throws Exception {
        ByteBuffer b = TestModule.le(module);
        MessageDigest md = MessageDigest.getInstance("SHA-384");
        int dyn = TestModule.phdr(module, TestModule.header(module, TestModule.PT_DYNAMIC, 0));
        int loads = 0;
        for (int i = 0; i < TestModule.phnum(module); i++) {
            int at = TestModule.phdr(module, i);
            if (b.getInt(at) == TestModule.PT_LOAD && (b.getLong(at + 32) | b.getLong(at + 40)) != 0) {
                loads++;
            }
        }
        ByteBuffer head = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        head.put("EMODMEAS".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(loads)
                .putLong(b.getLong(dyn + 16)).putLong(b.getLong(dyn + 40));
        md.update(head.array());
        for (int i = 0; i < TestModule.phnum(module); i++) {
            int at = TestModule.phdr(module, i);
            if (b.getInt(at) != TestModule.PT_LOAD || (b.getLong(at + 32) | b.getLong(at + 40)) == 0) {
                continue;
            }
            ByteBuffer s = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            s.putLong(b.getLong(at + 16)).putLong(b.getLong(at + 40)).putLong(b.getLong(at + 32))
                    .putInt(b.getInt(at + 4)).putInt(0);
            md.update(s.array());
            md.update(module, (int) b.getLong(at + 8), (int) b.getLong(at + 32));
        }
        assertEquals(Sha384.of(md.digest()), ModuleElf.parse(module, "m").measurement());
    }

    @Test
    void oneFlippedCodeByteChangesTheMeasurement() {
        Sha384 before = ModuleElf.parse(module, "m").measurement();
        int code = TestModule.find(module, new byte[] {0x34, 0x12, (byte) 0xed, 0x5e}); // ecall_answer's constant
        module[code] ^= 1;
        assertNotEquals(before, ModuleElf.parse(module, "m").measurement());
    }

    @Test
    void aChangedSectionTheLoaderIgnoresKeepsTheMeasurement() {
        Sha384 before = ModuleElf.parse(module, "m").measurement();
        // .comment ("GCC: (Debian ...)") is in no PT_LOAD segment: nothing loads it.
        int comment = TestModule.find(module, "GCC: (".getBytes(StandardCharsets.US_ASCII));
        module[comment + 2] ^= 0x20;
        assertEquals(before, ModuleElf.parse(module, "m").measurement());
    }

    @Test
    void notASharedObject() {
        TestModule.le(module).putShort(16, (short) 2);
        refused(ModuleErrors.NOT_A_MODULE, "ET_DYN");
    }

    @Test
    void notX86_64() {
        TestModule.le(module).putShort(18, (short) 183); // EM_AARCH64
        refused(ModuleErrors.NOT_A_MODULE, "e_machine = 183");
    }

    @Test
    void aSegmentBothWritableAndExecutable() {
        int load = TestModule.phdr(module, TestModule.header(module, TestModule.PT_LOAD, 1));
        TestModule.le(module).putInt(load + 4, 7);
        refused(ModuleErrors.BAD_SEGMENTS, "writable and executable");
    }

    @Test
    void textRelocationsFlag() {
        // Retag DT_GNU_HASH (which the loader does not use) as DT_TEXTREL.
        int e = TestModule.dynamicEntry(module, 0x6ffffef5L);
        TestModule.le(module).putLong(e, 22);
        refused(ModuleErrors.TEXT_RELOCATION, "DT_TEXTREL");
    }

    @Test
    void aRelocationIntoCodeIsATextRelocation() {
        int code = TestModule.find(module, new byte[] {0x34, 0x12, (byte) 0xed, 0x5e});
        long codeAddress = vaddrOf(code);
        TestModule.le(module).putLong(TestModule.rela(module, 0), codeAddress);
        refused(ModuleErrors.TEXT_RELOCATION, "non-writable segment");
    }

    @Test
    void relocationTypesOtherThanTheThreeAreRefusedByName() {
        int r = TestModule.rela(module, 0);
        ByteBuffer b = TestModule.le(module);
        b.putInt(r + 8, 1); // R_X86_64_64
        refused(ModuleErrors.UNSUPPORTED_RELOCATION, "R_X86_64_64 (1)");
        b.putInt(r + 8, 18);
        refused(ModuleErrors.UNSUPPORTED_RELOCATION, "R_X86_64_TPOFF64 (18)");
        b.putInt(r + 8, 37);
        refused(ModuleErrors.UNSUPPORTED_RELOCATION, "R_X86_64_IRELATIVE (37)");
        b.putInt(r + 8, 5);
        refused(ModuleErrors.UNSUPPORTED_RELOCATION, "R_X86_64_COPY (5)");
    }

    @Test
    void symbolRelocationsCarryNoAddend() {
        int globDat = TestModule.rela(module, 0);
        while (TestModule.le(module).getInt(globDat + 8) == ModuleElf.R_X86_64_RELATIVE) {
            globDat += 24; // .rela.dyn: the RELATIVE ones first (the linker sorts them so), then GLOB_DAT
        }
        assertEquals(ModuleElf.R_X86_64_GLOB_DAT, TestModule.le(module).getInt(globDat + 8));
        TestModule.le(module).putLong(globDat + 16, 8);
        refused(ModuleErrors.BAD_DYNAMIC, "addend 8");
    }

    @Test
    void overlappingSegments() {
        ByteBuffer b = TestModule.le(module);
        int first = TestModule.phdr(module, TestModule.header(module, TestModule.PT_LOAD, 0));
        int second = TestModule.phdr(module, TestModule.header(module, TestModule.PT_LOAD, 1));
        // Same offset and address as the first: congruent, so only the overlap is wrong.
        b.putLong(second + 8, b.getLong(first + 8));
        b.putLong(second + 16, b.getLong(first + 16));
        refused(ModuleErrors.BAD_SEGMENTS, "overlaps");
    }

    @Test
    void aSegmentSharingAPageWithTheNextIsRefused() {
        ByteBuffer b = TestModule.le(module);
        int second = TestModule.phdr(module, TestModule.header(module, TestModule.PT_LOAD, 1));
        int third = TestModule.phdr(module, TestModule.header(module, TestModule.PT_LOAD, 2));
        long end = b.getLong(second + 16) + b.getLong(second + 40);
        b.putLong(third + 16, end + 0x10);
        b.putLong(third + 8, (end + 0x10) % 4096 + b.getLong(third + 8) / 4096 * 4096);
        refused(ModuleErrors.BAD_SEGMENTS, "shares a 4 KiB page");
    }

    @Test
    void misalignedSegment() {
        int load = TestModule.phdr(module, TestModule.header(module, TestModule.PT_LOAD, 1));
        ByteBuffer b = TestModule.le(module);
        b.putLong(load + 16, b.getLong(load + 16) + 8);
        refused(ModuleErrors.BAD_SEGMENTS, "misaligned");
    }

    @Test
    void anotherLibraryIsRefused() {
        int e = TestModule.dynamicEntry(module, 0x6ffffef5L);
        TestModule.le(module).putLong(e, 1);
        refused(ModuleErrors.BAD_DYNAMIC, "DT_NEEDED");
    }

    @Test
    void tooLargeForHeapMaxSize() {
        ModuleElf elf = ModuleElf.parse(module, "m");
        EnclaveConfig small = new EnclaveConfig(0, 0, 0x40000, elf.imageSize() - 0x1000, 1, false);
        EnclaveException e = assertThrows(EnclaveException.class, () -> SignedModule.requireFits(elf, small, "m"));
        assertEquals(ModuleErrors.TOO_LARGE, e.code());
        SignedModule.requireFits(elf, new EnclaveConfig(0, 0, 0x40000, elf.imageSize(), 1, false), "m");
    }

    private long vaddrOf(int fileOffset) {
        ByteBuffer b = TestModule.le(module);
        for (int i = 0; i < TestModule.phnum(module); i++) {
            int at = TestModule.phdr(module, i);
            long off = b.getLong(at + 8);
            if (b.getInt(at) == TestModule.PT_LOAD && fileOffset >= off && fileOffset < off + b.getLong(at + 32)) {
                return b.getLong(at + 16) + fileOffset - off;
            }
        }
        throw new AssertionError("offset not loaded");
    }

    private void refused(ErrorCode code, String words) {
        Executable parse = () -> ModuleElf.parse(module, "m.so");
        EnclaveException e = assertThrows(EnclaveException.class, parse);
        assertEquals(code, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains(words), e.getMessage());
    }
}
