package org.enclaveruntime.image;

import com.fasterxml.jackson.databind.JsonNode;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.kvm.KvmErrors;
import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.vmm.VmBuilder;
import org.enclaveruntime.vmm.VmSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

import static org.enclaveruntime.image.TestElf.EHDR;
import static org.enclaveruntime.image.TestElf.PHDR;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * `image verify` and the boot must accept and refuse exactly the same runtime ELFs, for the same reason:
 * an image that verifies must not fail at boot after pages were reserved (issue 9, part 4: one with
 * p_vaddr != p_paddr did). Every mutant goes (a) into an image that {@link EnclaveImage} reads and then
 * fits into the enclave's memory, as `start` checks it, and (b) to {@link VmBuilder#boot} on a KVM device
 * that does not exist: a runtime the boot accepts gets as far as opening KVM (E400), and no further, so
 * this runs on hosts without KVM. A sample also goes through `enclavectl image verify`.
 */
class RuntimeElfDifferentialTest {
    private static final String VERIFY_NAME = "image: RUNTIME section ";
    private static final String BOOT_NAME = "the runtime ELF ";
    private static final long STACK = 64 * 1024;

    @TempDir
    Path dir;

    /** The enclave each mutant is booted in: RAM size and vCPUs, so stacks begin at ram - 64 KiB * vcpus. */
    private record Enclave(long ram, int vcpus) {
        long stacksBottom() {
            return ram - STACK * vcpus;
        }
    }

    private record Mutant(String name, byte[] elf) {
    }

    /** Accepted, or refused with an error code and the message without the name of the ELF. */
    private record Outcome(String code, String reason) {
        static final Outcome ACCEPTED = new Outcome("accepted", "");
    }

    @Test
    void verifyAndBootAgreeOnEveryMutant() {
        Set<String> reasons = new TreeSet<>();
        int accepted = 0;
        int total = 0;
        for (Enclave enclave : List.of(new Enclave(4L << 20, 1), new Enclave(6L << 20, 3))) {
            for (Mutant m : mutants(enclave)) {
                Outcome verify = verify(m.elf(), enclave);
                Outcome boot = boot(m.elf(), enclave);
                assertEquals(verify, boot, m.name() + " in " + enclave);
                total++;
                if (verify.equals(Outcome.ACCEPTED)) {
                    accepted++;
                } else {
                    reasons.add(verify.code() + " " + verify.reason().replaceAll("0x[0-9a-f]+|[0-9]+", "N"));
                }
            }
        }
        // The mutants must reach every rule, or agreeing would prove little.
        String all = String.join("\n", reasons);
        for (String rule : List.of("shorter than", "magic", "EI_CLASS", "EI_DATA", "EI_VERSION", "ET_EXEC",
                "e_machine", "e_phentsize", "e_phnum", "program headers (e_phoff", "no PT_LOAD", "p_flags",
                "larger than p_memsz", "(p_offset", "different from p_paddr", "below N MiB", "beyond N^N",
                "page boundary", "overlapping", "entry point", "E510")) {
            assertTrue(all.contains(rule), "no mutant broke the rule '" + rule + "':\n" + all);
        }
        assertTrue(accepted > 100 && accepted < total - 500, accepted + " of " + total + " accepted");
    }

    /** The original bug: this passed `image verify` and failed at boot. */
    @Test
    void vaddrOtherThanPaddrIsRefusedByBoth() {
        byte[] elf = patched(b -> b.putLong(EHDR + PHDR + 16, TestElf.DATA + 0x1000));
        Enclave enclave = new Enclave(4L << 20, 1);
        Outcome verify = verify(elf, enclave);
        assertEquals(ImageErrors.BAD_RUNTIME.id(), verify.code(), verify.reason());
        assertTrue(verify.reason().contains("p_vaddr"), verify.reason());
        assertEquals(verify, boot(elf, enclave));
    }

    /** `enclavectl image verify` takes the same path as EnclaveImage (memory is not its business). */
    @Test
    void theCliVerifiesAsEnclaveImageDoes() throws Exception {
        List<Mutant> mutants = mutants(new Enclave(4L << 20, 1));
        int refused = 0;
        for (int i = 0; i < mutants.size(); i += 13) {
            Mutant m = mutants.get(i);
            Path file = dir.resolve("image.bin");
            Files.write(file, image(m.elf()));
            Outcome expected = outcome(() -> EnclaveImage.parse(image(m.elf())), VERIFY_NAME);
            ImageCliTest.Result r = ImageCliTest.run("image", "verify", file.toString(), "--output", "json");
            if (expected.equals(Outcome.ACCEPTED)) {
                assertEquals(0, r.status(), m.name() + ": " + r.err());
            } else {
                refused++;
                assertEquals(7, r.status(), m.name());
                JsonNode error = r.json().get("error");
                assertEquals(expected.code(), error.get("code").asText(), m.name());
                assertEquals(file + ": RUNTIME section " + expected.reason(), error.get("message").asText(), m.name());
            }
        }
        assertTrue(refused > 30, refused + " refused");
    }

    private static Outcome verify(byte[] elf, Enclave enclave) {
        return outcome(() -> EnclaveImage.parse(image(elf)).requireFits(enclave.ram(), enclave.vcpus()), VERIFY_NAME);
    }

    private Outcome boot(byte[] elf, Enclave enclave) {
        VmSpec spec = new VmSpec(enclave.vcpus(), enclave.ram(), elf, false, null, 3, List.of(),
                MemoryBacking.ORDINARY, dir.resolve("no-kvm-here"));
        Outcome o = outcome(() -> VmBuilder.boot(spec).close(), BOOT_NAME);
        if (o.code().equals(KvmErrors.KVM_MISSING.id())) {
            return Outcome.ACCEPTED; // it went on to open KVM: the runtime passed every check
        }
        if (o.equals(Outcome.ACCEPTED)) {
            fail("the boot ran without KVM");
        }
        return o;
    }

    private static Outcome outcome(Runnable run, String name) {
        try {
            run.run();
            return Outcome.ACCEPTED;
        } catch (EnclaveException e) {
            String message = e.getMessage();
            if (ImageErrors.ALL.contains(e.code())) {
                assertTrue(message.startsWith(name), "message does not start with '" + name + "': " + message);
                return new Outcome(e.code().id(), message.substring(name.length()));
            }
            return new Outcome(e.code().id(), message);
        }
    }

    /** An image with this runtime and the metadata that describes it, without the builder's checks. */
    static byte[] image(byte[] elf) {
        byte[] metadata = new ImageMetadata(ImageMetadata.FORMAT, "differential", "1", "test", null, null,
                List.of(new ImageMetadata.BuildInput("RUNTIME", "runtime.elf", elf.length, Sha384.digest(elf).hex())))
                .toJson();
        return RawImage.assemble(new TreeMap<>(Map.of(SectionType.RUNTIME, elf, SectionType.METADATA, metadata)));
    }

    private static byte[] patched(Consumer<ByteBuffer> patch) {
        byte[] b = TestElf.twoSegments();
        patch.accept(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
        return b;
    }

    /** ELF64 header fields: offset, width in bytes, name. */
    private static final Object[][] HEADER_FIELDS = {
            {16, 2, "e_type"}, {18, 2, "e_machine"}, {20, 4, "e_version"}, {24, 8, "e_entry"},
            {32, 8, "e_phoff"}, {40, 8, "e_shoff"}, {48, 4, "e_flags"}, {52, 2, "e_ehsize"},
            {54, 2, "e_phentsize"}, {56, 2, "e_phnum"}, {58, 2, "e_shentsize"}, {60, 2, "e_shnum"},
            {62, 2, "e_shstrndx"}};
    /** Program header fields: offset within the entry, width, name. */
    private static final Object[][] SEGMENT_FIELDS = {
            {0, 4, "p_type"}, {4, 4, "p_flags"}, {8, 8, "p_offset"}, {16, 8, "p_vaddr"}, {24, 8, "p_paddr"},
            {32, 8, "p_filesz"}, {40, 8, "p_memsz"}, {48, 8, "p_align"}};

    private static List<Mutant> mutants(Enclave enclave) {
        byte[] base = TestElf.twoSegments();
        List<Mutant> out = new ArrayList<>();
        out.add(new Mutant("unchanged", base));
        for (int i = 0; i < 16; i++) {
            for (long v : new long[] {0, 1, 2, 3, 0x7F, 0x80, 0xFF, base[i] - 1, base[i] + 1}) {
                out.add(set(base, "e_ident[" + i + "]", i, 1, v));
            }
        }
        for (Object[] f : HEADER_FIELDS) {
            for (long v : values(base, (int) f[0], (int) f[1], enclave)) {
                out.add(set(base, (String) f[2], (int) f[0], (int) f[1], v));
            }
        }
        for (int p = 0; p < 3; p++) {
            for (Object[] f : SEGMENT_FIELDS) {
                int at = EHDR + p * PHDR + (int) f[0];
                for (long v : values(base, at, (int) f[1], enclave)) {
                    out.add(set(base, "segment " + p + " " + f[2], at, (int) f[1], v));
                }
            }
        }
        for (int length = 1; length < base.length; length++) { // an empty section is refused before its content
            out.add(new Mutant("cut to " + length, java.util.Arrays.copyOf(base, length)));
        }
        out.addAll(shapes(enclave));
        return out;
    }

    /** Boundary values for one field: small numbers, the original's neighbours, page and RAM edges, extremes. */
    private static List<Long> values(byte[] base, int at, int width, Enclave enclave) {
        ByteBuffer b = ByteBuffer.wrap(base).order(ByteOrder.LITTLE_ENDIAN);
        long original = width == 2 ? b.getShort(at) & 0xFFFF : width == 4 ? b.getInt(at) & 0xFFFFFFFFL : b.getLong(at);
        long top = 1L << 48;
        List<Long> v = new ArrayList<>(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 56L, 62L, 64L, 65L,
                original - 1, original + 1, original ^ 0x10, original << 1, 0xFFFL, 0x1000L, 0x1001L,
                RuntimeElf.LOAD_BASE - 1, RuntimeElf.LOAD_BASE, RuntimeElf.LOAD_BASE + 0x800,
                RuntimeElf.LOAD_BASE + 0x1000, (long) base.length, base.length - 1L, top - 0x1000, top - 1, top,
                enclave.stacksBottom() - 0x1000, enclave.stacksBottom(), enclave.stacksBottom() - TestElf.DATA,
                enclave.stacksBottom() - TestElf.DATA + 1, enclave.ram(), Long.MAX_VALUE, Long.MIN_VALUE, -1L,
                -0x1000L, 0x80000000L, 0xFFFFFFFFL, 0x7FFFL, 0x8000L, 0xFFFFL));
        return v;
    }

    private static Mutant set(byte[] base, String field, int at, int width, long value) {
        byte[] b = base.clone();
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        switch (width) {
            case 1 -> le.put(at, (byte) value);
            case 2 -> le.putShort(at, (short) value);
            case 4 -> le.putInt(at, (int) value);
            default -> le.putLong(at, value);
        }
        return new Mutant(field + " = 0x" + Long.toHexString(value), b);
    }

    /** Whole-segment shapes: moved, overlapping, misaligned, wrapping, at the stacks, the entry at edges. */
    private static List<Mutant> shapes(Enclave enclave) {
        List<Mutant> out = new ArrayList<>();
        int text = EHDR;
        int data = EHDR + PHDR;
        long dataEndAtStacks = enclave.stacksBottom() - TestElf.DATA;
        for (long shift : new long[] {-0x1000, 0x10, 0x800, 0xFFF, 0x1000, 0x2000, 1L << 32}) {
            out.add(mutant("data moved by " + shift, b -> move(b, data, TestElf.DATA + shift)));
            out.add(mutant("text and entry moved by " + shift, b -> {
                move(b, text, TestElf.TEXT + shift);
                b.putLong(24, TestElf.ENTRY + shift);
            }));
            out.add(mutant("data p_vaddr moved by " + shift, b -> b.putLong(data + 16, TestElf.DATA + shift)));
            out.add(mutant("text p_paddr moved by " + shift, b -> b.putLong(text + 24, TestElf.TEXT + shift)));
        }
        for (long memsz : new long[] {dataEndAtStacks - 1, dataEndAtStacks, dataEndAtStacks + 1,
                dataEndAtStacks - 0x1000 + 1, dataEndAtStacks + 0x1000}) {
            out.add(mutant("data p_memsz " + memsz + " near the stacks", b -> b.putLong(data + 40, memsz)));
        }
        out.add(mutant("data at the stacks", b -> move(b, data, enclave.stacksBottom())));
        out.add(mutant("data one page below the stacks", b -> move(b, data, enclave.stacksBottom() - 0x1000)
                .putLong(data + 40, 0x1000)));
        out.add(mutant("data page wraps past 2^64", b -> move(b, data, -0x1000L).putLong(data + 40, 0x2000)));
        out.add(mutant("data p_memsz wraps", b -> b.putLong(data + 40, -TestElf.DATA + 0x1000)));
        out.add(mutant("data p_offset + p_filesz wraps", b -> b.putLong(data + 8, -0x10L).putLong(data + 32, 0x20)));
        out.add(mutant("text overlaps data by a byte", b -> b.putLong(text + 40, 0x1001)));
        out.add(mutant("text reaches data exactly", b -> b.putLong(text + 40, 0x1000)));
        out.add(mutant("data inside text", b -> move(b, data, TestElf.TEXT)));
        out.add(mutant("data empty", b -> b.putLong(data + 32, 0).putLong(data + 40, 0)));
        out.add(mutant("text empty", b -> b.putLong(text + 32, 0).putLong(text + 40, 0)));
        out.add(mutant("stack segment is an empty PT_LOAD at 0", b -> b.putInt(text + 2 * PHDR, 1)));
        out.add(mutant("stack segment is a copy of text", b -> b.put(text + 2 * PHDR, b.array(), text, PHDR)));
        out.add(mutant("data writable and executable", b -> b.putInt(data + 4, 7)));
        out.add(mutant("text not executable", b -> b.putInt(text + 4, 4)));
        out.add(mutant("data executable, entry in data", b -> b.putInt(data + 4, 5).putLong(24, TestElf.DATA)));
        for (long entry : new long[] {TestElf.TEXT, TestElf.TEXT + TestElf.TEXT_SIZE - 1,
                TestElf.TEXT + TestElf.TEXT_SIZE, TestElf.DATA, TestElf.TEXT - 1, 0}) {
            out.add(mutant("entry 0x" + Long.toHexString(entry), b -> b.putLong(24, entry)));
        }
        out.add(mutant("64 program headers", b -> b.putShort(56, (short) 64)));
        out.add(mutant("2 program headers", b -> b.putShort(56, (short) 2)));
        out.add(mutant("1 program header (no data)", b -> b.putShort(56, (short) 1)));
        out.add(mutant("program headers end at the file's end", b -> b.putLong(32, b.capacity() - 3L * PHDR)));
        out.add(mutant("program headers a byte past the end", b -> b.putLong(32, b.capacity() - 3L * PHDR + 1)));
        return out;
    }

    private static ByteBuffer move(ByteBuffer b, int header, long address) {
        return b.putLong(header + 16, address).putLong(header + 24, address);
    }

    private static Mutant mutant(String name, Consumer<ByteBuffer> patch) {
        return new Mutant(name, patched(patch));
    }
}
