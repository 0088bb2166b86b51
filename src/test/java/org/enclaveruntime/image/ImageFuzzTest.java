package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A million mutated images through the reader. Two properties must hold for every one of them:
 * <ol>
 *   <li>nothing but EnclaveException with an E5xx code leaves the reader;</li>
 *   <li>an accepted image is exactly what it claims to be: if the mutation did not re-hash content, the
 *   measured sections are byte-identical to the original's and so are the registers; if it did (the fuzzer
 *   playing an attacker who fixes hashes), the registers equal those computed from the definition.</li>
 * </ol>
 * Each iteration has its own seed, printed on failure: rerun with -Dimage.fuzz.seed=S to reproduce.
 */
class ImageFuzzTest {
    private static final int ITERATIONS = Integer.getInteger("image.fuzz.iterations", 1_000_000);
    private static final int SIGNED_ITERATIONS = 3_000; // each one that gets past the hashes costs an ECDSA verify (~1 ms)
    private static final long[] INTERESTING = {0, 1, -1, 0x7f, 0x80, 0xff, 0xffff, 0x1_0000, 0x7fff_ffffL,
            0x8000_0000L, 0xffff_ffffL, Long.MAX_VALUE, Long.MIN_VALUE, 4095, 4096, 4097, 8192, 1L << 32, 1L << 40};

    @TempDir
    Path dir;

    private record Base(String name, byte[] bytes, Map<SectionType, byte[]> sections, Measurements measurements) {
        static Base of(String name, byte[] bytes) {
            EnclaveImage image = EnclaveImage.parse(bytes);
            Map<SectionType, byte[]> sections = new TreeMap<>();
            for (ImageSection s : image.sections()) {
                sections.put(s.type(), ImageBuildTest.bytes(image.content(s.type()).orElseThrow()));
            }
            return new Base(name, bytes, sections, image.measurements());
        }
    }

    private static final class Stats {
        final Map<String, Integer> outcomes = new TreeMap<>();
        long accepted;
        long acceptedRehashed;

        void count(String outcome) {
            outcomes.merge(outcome, 1, Integer::sum);
        }
    }

    @Test
    void mutatedImagesAreRefusedWithImageErrorsOrAreExactlyWhatTheyClaim() throws Exception {
        Path kernel = Files.write(dir.resolve("vmlinux"), "kernel bytes for the fuzzer".repeat(20).getBytes());
        Path initrd = Files.write(dir.resolve("initrd"), new byte[700]);
        Base plain = Base.of("plain", new ImageBuilder().runtime(TestElf.minimal(900, 5), "rt.elf").name("fuzz")
                .version("1").toBytes());
        Base full = Base.of("full", new ImageBuilder().runtime(TestElf.minimal(300, 6), "rt.elf").kernel(kernel)
                .initrd(initrd).cmdline("console=ttyS0").name("fuzz").version("1").toBytes());
        TestKeys keys = new TestKeys(dir);
        Base signed = Base.of("signed", new ImageSigner(PemFiles.readPrivateKey(keys.leafKey),
                PemFiles.readCertificates(keys.leafCert)).sign(EnclaveImage.parse(plain.bytes())));

        long seed = Long.getLong("image.fuzz.seed", System.nanoTime());
        Stats stats = new Stats();
        long start = System.nanoTime();
        byte[] work = new byte[full.bytes().length * 2 + 65536];
        for (int i = 0; i < ITERATIONS; i++) {
            run(i % 2 == 0 ? plain : full, seed + i, work, stats);
        }
        double unsignedSeconds = (System.nanoTime() - start) / 1e9;
        for (int i = 0; i < SIGNED_ITERATIONS; i++) {
            run(signed, seed + ITERATIONS + i, work, stats);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("image fuzz: %d mutated images (seed %d) in %.1f s (%d unsigned in %.1f s, %d signed); "
                + "accepted %d unchanged-measured, %d re-hashed; outcomes %s%n", ITERATIONS + SIGNED_ITERATIONS, seed,
                seconds, ITERATIONS, unsignedSeconds, SIGNED_ITERATIONS, stats.accepted, stats.acceptedRehashed,
                stats.outcomes);
        // Every kind of refusal the fuzzer can reach was reached: the mutations get past the CRC and hashes.
        for (ErrorCode c : List.of(ImageErrors.BAD_HEADER, ImageErrors.UNSUPPORTED_VERSION, ImageErrors.CRC_MISMATCH,
                ImageErrors.BAD_LAYOUT, ImageErrors.UNKNOWN_SECTION, ImageErrors.SECTION_SET,
                ImageErrors.HASH_MISMATCH, ImageErrors.BAD_RUNTIME, ImageErrors.BAD_CONTENT, ImageErrors.BAD_SIGNATURE)) {
            assertTrue(stats.outcomes.containsKey(c.id()), c.id() + " never reached: " + stats.outcomes);
        }
    }

    private static void run(Base base, long seed, byte[] work, Stats stats) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        System.arraycopy(base.bytes(), 0, work, 0, base.bytes().length);
        Mutation m = mutate(base, work, r);
        EnclaveImage image;
        try {
            image = EnclaveImage.parse(ByteBuffer.wrap(work, 0, m.length()), "fuzz");
        } catch (EnclaveException e) {
            if (!ImageErrors.ALL.contains(e.code())) {
                fail("seed " + seed + " (" + base.name() + ", " + m.what() + "): foreign code " + e, e);
            }
            stats.count(e.code().id());
            return;
        } catch (Throwable t) {
            fail("seed " + seed + " (" + base.name() + ", " + m.what() + "): " + t, t);
            return;
        }
        byte[] accepted = Arrays.copyOf(work, m.length());
        List<String> reference = ReferenceMeasurements.of(accepted);
        String where = "seed " + seed + " (" + base.name() + ", " + m.what() + ") accepted";
        assertEquals(reference, ReferenceMeasurements.of(image.measurements()), where + ": registers off the definition");
        if (m.rehashed()) {
            stats.acceptedRehashed++;
        } else {
            stats.accepted++;
            assertEquals(base.measurements(), image.measurements(), where + " with other measurements");
            for (ImageSection s : image.sections()) {
                byte[] original = base.sections().get(s.type());
                assertTrue(original != null && Arrays.equals(original,
                        ImageBuildTest.bytes(image.content(s.type()).orElseThrow())), where + ": " + s.type() + " differs");
            }
        }
        stats.count("accepted");
    }

    private record Mutation(int length, boolean rehashed, String what) {
    }

    private static Mutation mutate(Base base, byte[] work, SplittableRandom r) throws Exception {
        int length = base.bytes().length;
        ByteBuffer b = ByteBuffer.wrap(work).order(ByteOrder.LITTLE_ENDIAN);
        int sections = Short.toUnsignedInt(b.getShort(14));
        int kind = r.nextInt(9);
        switch (kind) {
            case 0 -> {
                int flips = 1 + r.nextInt(4);
                for (int k = 0; k < flips; k++) {
                    int at = r.nextInt(length);
                    work[at] ^= (byte) (1 << r.nextInt(8));
                }
                return new Mutation(length, false, flips + " bit flips");
            }
            case 1 -> {
                int at = r.nextInt(length);
                work[at] = (byte) (r.nextBoolean() ? INTERESTING[r.nextInt(INTERESTING.length)] : r.nextInt(256));
                return new Mutation(length, false, "byte set at " + at);
            }
            case 2 -> {
                int newLength = r.nextBoolean() ? r.nextInt(length) : length - 1 - r.nextInt(Math.min(length, 64));
                return new Mutation(newLength, false, "truncated to " + newLength);
            }
            case 3 -> {
                int extra = 1 + r.nextInt(r.nextBoolean() ? 16 : 8192);
                for (int k = 0; k < extra; k++) {
                    work[length + k] = r.nextBoolean() ? 0 : (byte) r.nextInt(256);
                }
                boolean fixSize = r.nextBoolean();
                if (fixSize) {
                    b.putLong(32, length + extra);
                    reseal(work, sections);
                }
                return new Mutation(length + extra, false, "extended by " + extra + (fixSize ? ", size fixed" : ""));
            }
            case 4, 5 -> {
                // A field of the header or the table set to an interesting value; the CRC mostly re-sealed so the
                // checks behind it are reached.
                int[][] fields = {{8, 2}, {10, 2}, {12, 2}, {14, 2}, {16, 4}, {20, 4}, {24, 4}, {28, 4}, {32, 8},
                        {40, 4}, {56, 4}};
                int at;
                int width;
                if (kind == 4) {
                    int[] f = fields[r.nextInt(fields.length)];
                    at = f[0];
                    width = f[1];
                } else {
                    int entry = RawImage.entryAt(r.nextInt(sections));
                    int[][] entryFields = {{0, 4}, {4, 4}, {8, 8}, {16, 8}};
                    int[] f = entryFields[r.nextInt(entryFields.length)];
                    at = entry + f[0];
                    width = f[1];
                }
                long value = interestingFor(b, at, width, length, sections, r);
                put(b, at, width, value);
                boolean sealed = r.nextInt(8) != 0;
                if (sealed) {
                    reseal(work, sections);
                }
                return new Mutation(length, false, "field at " + at + " = " + value + (sealed ? ", CRC re-sealed" : ""));
            }
            case 6 -> {
                // Two table entries swapped, or one copied over another.
                int i = r.nextInt(sections);
                int j = r.nextInt(sections);
                byte[] a = Arrays.copyOfRange(work, RawImage.entryAt(i), RawImage.entryAt(i) + RawImage.ENTRY);
                boolean swap = r.nextBoolean();
                if (swap) {
                    System.arraycopy(work, RawImage.entryAt(j), work, RawImage.entryAt(i), RawImage.ENTRY);
                }
                System.arraycopy(a, 0, work, RawImage.entryAt(j), RawImage.ENTRY);
                reseal(work, sections);
                return new Mutation(length, false, (swap ? "swapped" : "copied") + " entries " + i + "," + j);
            }
            default -> {
                // Content changed and its hash fixed up: only the content checks (ELF, JSON, command line,
                // signature) and, when signed, the signature stand between this and acceptance.
                int index = r.nextInt(sections);
                int entry = RawImage.entryAt(index);
                int offset = (int) b.getLong(entry + 8);
                int size = (int) b.getLong(entry + 16);
                int changes = 1 + r.nextInt(3);
                for (int k = 0; k < changes; k++) {
                    int at = offset + (r.nextInt(4) == 0 ? r.nextInt(Math.min(size, 128)) : r.nextInt(size));
                    work[at] = r.nextBoolean() ? (byte) INTERESTING[r.nextInt(INTERESTING.length)] : (byte) r.nextInt(256);
                }
                byte[] hash = MessageDigest.getInstance("SHA-384").digest(Arrays.copyOfRange(work, offset, offset + size));
                System.arraycopy(hash, 0, work, entry + 24, 48);
                reseal(work, sections);
                return new Mutation(length, true, changes + " content bytes of section " + index + ", re-hashed");
            }
        }
    }

    private static long interestingFor(ByteBuffer b, int at, int width, int length, int sections, SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0 -> INTERESTING[r.nextInt(INTERESTING.length)];
            case 1 -> length + (r.nextInt(3) - 1); // about the file size
            case 2 -> { // another entry's offset or end, give or take one
                int other = RawImage.entryAt(r.nextInt(sections));
                long v = b.getLong(other + 8) + (r.nextBoolean() ? b.getLong(other + 16) : 0);
                yield v + (r.nextInt(3) - 1);
            }
            default -> get(b, at, width) + (r.nextBoolean() ? 1 : -1) * (1L << r.nextInt(width * 8));
        };
    }

    private static long get(ByteBuffer b, int at, int width) {
        return switch (width) {
            case 2 -> Short.toUnsignedLong(b.getShort(at));
            case 4 -> Integer.toUnsignedLong(b.getInt(at));
            default -> b.getLong(at);
        };
    }

    private static void put(ByteBuffer b, int at, int width, long value) {
        switch (width) {
            case 2 -> b.putShort(at, (short) value);
            case 4 -> b.putInt(at, (int) value);
            default -> b.putLong(at, value);
        }
    }

    /** CRC-32C over header bytes 0..59 and the table of the original section count (docs/image-format.md). */
    private static void reseal(byte[] work, int originalSections) {
        ByteBuffer b = ByteBuffer.wrap(work).order(ByteOrder.LITTLE_ENDIAN);
        int count = Short.toUnsignedInt(b.getShort(14));
        int tableEnd = RawImage.HEADER + RawImage.ENTRY * Math.min(count, 8);
        CRC32C crc = new CRC32C();
        crc.update(work, 0, 60);
        crc.update(work, RawImage.HEADER, tableEnd - RawImage.HEADER);
        b.putInt(60, (int) crc.getValue());
    }
}
