package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The content parsers straight, without the section hash in front that makes most whole-image mutations
 * stop early: runtime ELF, metadata JSON, signature section, PEM keys and certificates. Only
 * EnclaveException with an image code may leave them.
 */
class ContentFuzzTest {
    @TempDir
    Path dir;

    @Test
    void runtimeElf() {
        byte[] elf = TestElf.minimal(200, 1);
        long accepted = mutate(elf, 300_000, 1, b -> RuntimeElf.parse(ByteBuffer.wrap(b), "fuzz.elf"));
        assertTrue(accepted > 0, "some mutations of code bytes must still be a valid ELF");
    }

    @Test
    void metadataJson() {
        byte[] json = new ImageBuilder().runtime(TestElf.minimal(10, 1), "rt").toBytes();
        RawImage raw = new RawImage(json);
        byte[] metadata = raw.content(raw.indexOf(SectionType.METADATA));
        mutate(metadata, 30_000, 2, b -> ImageMetadata.fromJson(ByteBuffer.wrap(b), "fuzz"));
    }

    @Test
    void signatureSection() throws Exception {
        TestKeys keys = new TestKeys(dir);
        byte[] unsigned = new ImageBuilder().runtime(TestElf.minimal(10, 1), "rt").toBytes();
        RawImage signed = new RawImage(new ImageSigner(PemFiles.readPrivateKey(keys.leafKey),
                PemFiles.readCertificates(keys.leafCert)).sign(EnclaveImage.parse(unsigned)));
        byte[] section = signed.content(signed.indexOf(SectionType.SIGNATURE));
        byte[] message = EnclaveImage.parse(signed.bytes).header().unsigned().encode();
        // Mutations that keep the structure reach an ECDSA verification (~1 ms); 5,000 stay within seconds.
        mutate(section, 5_000, 3, b -> ImageSignature.decodeAndCheck(ByteBuffer.wrap(b), message, "fuzz"));
    }

    @Test
    void pemKeysAndCertificates() throws Exception {
        TestKeys keys = new TestKeys(dir);
        for (Path pem : List.of(keys.sec1Key, keys.leafKey, keys.leafCert)) {
            String text = Files.readString(pem);
            boolean isCert = text.contains("CERTIFICATE");
            String label = isCert ? "CERTIFICATE" : text.contains("EC PRIVATE KEY") ? "EC PRIVATE KEY" : "PRIVATE KEY";
            int from = text.indexOf("-----BEGIN " + label + "-----");
            int to = text.indexOf("-----END " + label + "-----");
            byte[] der = Base64.getMimeDecoder().decode(text.substring(from + label.length() + 16, to));
            Path file = dir.resolve("fuzz.pem");
            mutate(der, 1_000, 4, b -> {
                try {
                    Files.writeString(file, "-----BEGIN " + label + "-----\n"
                            + Base64.getMimeEncoder().encodeToString(b) + "\n-----END " + label + "-----\n",
                            StandardCharsets.US_ASCII);
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
                if (isCert) {
                    PemFiles.readCertificates(file);
                } else {
                    PemFiles.readPrivateKey(file);
                }
            });
        }
    }

    /** Runs {@code parse} on mutated copies; returns how many were accepted. */
    private static long mutate(byte[] original, int iterations, long salt, Consumer<byte[]> parse) {
        long seed = Long.getLong("image.fuzz.seed", System.nanoTime()) ^ salt;
        long accepted = 0;
        for (int i = 0; i < iterations; i++) {
            SplittableRandom r = new SplittableRandom(seed + i);
            byte[] b = original.clone();
            int kind = r.nextInt(4);
            if (kind == 3) {
                b = java.util.Arrays.copyOf(b, r.nextInt(b.length + 64));
            } else {
                int changes = 1 + r.nextInt(kind == 0 ? 1 : 4);
                for (int k = 0; k < changes && b.length > 0; k++) {
                    int at = r.nextInt(4) == 0 ? r.nextInt(Math.min(b.length, 128)) : r.nextInt(b.length);
                    b[at] = kind == 0 ? (byte) (b[at] ^ (1 << r.nextInt(8))) : (byte) r.nextInt(256);
                }
            }
            try {
                parse.accept(b);
                accepted++;
            } catch (EnclaveException e) {
                if (!ImageErrors.ALL.contains(e.code())) {
                    fail("seed " + (seed + i) + ": foreign code " + e, e);
                }
            } catch (Throwable t) {
                fail("seed " + (seed + i) + ": " + t, t);
            }
        }
        return accepted;
    }
}
