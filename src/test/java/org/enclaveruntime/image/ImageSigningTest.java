package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;

import static org.enclaveruntime.image.ImageBuildTest.assertCode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageSigningTest {
    @TempDir
    static Path keysDir;
    static TestKeys keys;

    @TempDir
    Path dir;

    private static final byte[] UNSIGNED = new ImageBuilder().runtime(TestElf.minimal(2500, 11), "rt.elf")
            .name("signed").version("1").toBytes();

    @BeforeAll
    static void makeKeys() throws Exception {
        keys = new TestKeys(keysDir);
    }

    private static ImageSigner leafSigner() {
        return new ImageSigner(PemFiles.readPrivateKey(keys.leafKey), PemFiles.readCertificates(keys.leafCert));
    }

    @Test
    void signedByACertificateIssuedByTheTrustedCa() throws Exception {
        byte[] signed = leafSigner().sign(EnclaveImage.parse(UNSIGNED));
        EnclaveImage image = EnclaveImage.parse(signed);
        X509Certificate ca = PemFiles.readCertificate(keys.caCert);
        image.verifySignature(ca);
        ImageSignature sig = image.signature().orElseThrow();
        assertEquals("CN=test-signer", sig.signerSubject());

        // pcr8 from the definition: extend zero with SHA-384 of the leaf certificate's DER, as in the PEM file.
        byte[] leafDer = PemFiles.readCertificate(keys.leafCert).getEncoded();
        byte[] pcr8 = ReferenceMeasurements.extend(new byte[48], ReferenceMeasurements.sha384(leafDer));
        assertEquals(java.util.HexFormat.of().formatHex(pcr8), image.measurements().pcr8().hex());
        assertEquals(ReferenceMeasurements.of(signed), ReferenceMeasurements.of(image.measurements()));
        // Signing leaves what boots, and so pcr0..2, alone; the bytes before the signature are the unsigned image's
        // except for the header fields that count sections, size and CRC.
        EnclaveImage unsigned = EnclaveImage.parse(UNSIGNED);
        assertEquals(unsigned.measurements().pcr0(), image.measurements().pcr0());
        assertArrayEquals(java.util.Arrays.copyOfRange(UNSIGNED, 4096, UNSIGNED.length),
                java.util.Arrays.copyOfRange(signed, 4096, UNSIGNED.length));
    }

    @Test
    void signatureCoversTheUnsignedHeaderAndTableAsDocumented() throws Exception {
        byte[] signed = leafSigner().sign(EnclaveImage.parse(UNSIGNED));
        RawImage raw = new RawImage(signed);
        int n = raw.sectionCount();
        int sigIndex = raw.indexOf(SectionType.SIGNATURE);
        assertEquals(n - 1, sigIndex, "SIGNATURE is the last entry");
        // Rebuild the message per docs/image-format.md: drop the last entry, n-1 sections, image_size = end of
        // the new last section, CRC recomputed.
        RawImage message = new RawImage(java.util.Arrays.copyOf(signed, 64 + 72 * (n - 1)));
        message.putShort(14, n - 1).putLong(32, raw.offset(n - 2) + raw.size(n - 2)).reseal();
        assertArrayEquals(java.util.Arrays.copyOf(UNSIGNED, 64 + 72 * (n - 1)), message.bytes,
                "the message is the unsigned file's header and table");
        java.nio.ByteBuffer section = java.nio.ByteBuffer.wrap(raw.content(sigIndex)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(1, section.getInt(0));
        int certLength = section.getInt(16);
        int sigLength = section.getInt(8);
        byte[] signature = java.util.Arrays.copyOfRange(raw.content(sigIndex), raw.content(sigIndex).length - sigLength,
                raw.content(sigIndex).length);
        java.security.Signature verifier = java.security.Signature.getInstance("SHA384withECDSA");
        verifier.initVerify(PemFiles.readCertificate(keys.leafCert));
        verifier.update(message.bytes);
        assertTrue(verifier.verify(signature));
        assertArrayEquals(PemFiles.readCertificate(keys.leafCert).getEncoded(),
                java.util.Arrays.copyOfRange(raw.content(sigIndex), 20, 20 + certLength));
    }

    @Test
    void selfSignedSec1KeyIsTrustedAsItself() {
        ImageSigner signer = new ImageSigner(PemFiles.readPrivateKey(keys.sec1Key),
                PemFiles.readCertificates(keys.sec1SelfCert));
        EnclaveImage image = EnclaveImage.parse(signer.sign(EnclaveImage.parse(UNSIGNED)));
        image.verifySignature(PemFiles.readCertificate(keys.sec1SelfCert));
        assertCode(ImageErrors.UNTRUSTED_SIGNER, () -> image.verifySignature(PemFiles.readCertificate(keys.caCert)));
    }

    @Test
    void wrongCaIsRefused() {
        EnclaveImage image = EnclaveImage.parse(leafSigner().sign(EnclaveImage.parse(UNSIGNED)));
        EnclaveException e = assertCode(ImageErrors.UNTRUSTED_SIGNER,
                () -> image.verifySignature(PemFiles.readCertificate(keys.otherCaCert)));
        assertTrue(e.getMessage().contains("CN=test-signer") && e.getMessage().contains("CN=other-ca"), e.getMessage());
    }

    @Test
    void unsignedImageFailsOnlyWhenATrustedCertIsRequired() {
        EnclaveImage image = EnclaveImage.parse(UNSIGNED);
        assertTrue(image.signature().isEmpty());
        assertCode(ImageErrors.NOT_SIGNED, () -> image.verifySignature(PemFiles.readCertificate(keys.caCert)));
    }

    @Test
    void anyByteChangedAfterSigningIsRefused() throws Exception {
        byte[] signed = leafSigner().sign(EnclaveImage.parse(UNSIGNED));
        RawImage raw = new RawImage(signed);
        int rt = raw.indexOf(SectionType.RUNTIME);
        int sigIndex = raw.indexOf(SectionType.SIGNATURE);

        RawImage content = new RawImage(signed);
        content.bytes[(int) content.offset(rt) + 500] ^= 1;
        assertCode(ImageErrors.HASH_MISMATCH, () -> EnclaveImage.parse(content.bytes));
        // With the section hash and CRC fixed up, as an attacker would: the signature catches it.
        assertCode(ImageErrors.BAD_SIGNATURE, () -> EnclaveImage.parse(content.rehash(rt).bytes));

        RawImage defaults = new RawImage(signed).putInt(24, 4096).reseal(); // default memory
        assertCode(ImageErrors.BAD_SIGNATURE, () -> EnclaveImage.parse(defaults.bytes));

        RawImage sig = new RawImage(signed);
        int last = (int) (sig.offset(sigIndex) + sig.size(sigIndex) - 10);
        sig.bytes[last] ^= 0x01;
        assertCode(ImageErrors.HASH_MISMATCH, () -> EnclaveImage.parse(sig.bytes));
        EnclaveException e = assertThrows(() -> EnclaveImage.parse(sig.rehash(sigIndex).bytes));
        assertTrue(e.code() == ImageErrors.BAD_SIGNATURE, e.toString());
    }

    @Test
    void resigningReplacesTheSignature() {
        EnclaveImage once = EnclaveImage.parse(leafSigner().sign(EnclaveImage.parse(UNSIGNED)));
        ImageSigner other = new ImageSigner(PemFiles.readPrivateKey(keys.sec1Key),
                PemFiles.readCertificates(keys.sec1SelfCert));
        EnclaveImage twice = EnclaveImage.parse(other.sign(once));
        assertEquals(3, twice.sections().size());
        assertEquals("CN=sec1-self", twice.signature().orElseThrow().signerSubject());
        assertNotEquals(once.measurements().pcr8(), twice.measurements().pcr8());
        assertEquals(once.measurements().pcr0(), twice.measurements().pcr0());
    }

    @Test
    void signInPlaceIsAtomicAndKeepsTheMode() throws Exception {
        Path file = Files.write(dir.resolve("image.bin"), UNSIGNED);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        EnclaveImage signed = leafSigner().signInPlace(file);
        assertTrue(signed.signature().isPresent());
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(file), listing.toList(), "no temporary file is left behind");
        }
        // A failing signature leaves the file as it was.
        byte[] before = Files.readAllBytes(file);
        ImageSigner mismatched = new ImageSigner(PemFiles.readPrivateKey(keys.caKey),
                PemFiles.readCertificates(keys.leafCert));
        assertCode(ImageErrors.BAD_KEY, () -> mismatched.signInPlace(file));
        assertArrayEquals(before, Files.readAllBytes(file));
    }

    @Test
    void unusableKeysAreRefused() throws Exception {
        assertCode(ImageErrors.BAD_KEY, () -> new ImageSigner(PemFiles.readPrivateKey(keys.p256Key),
                PemFiles.readCertificates(keys.p256Cert)));
        assertCode(ImageErrors.BAD_KEY, () -> PemFiles.readPrivateKey(keys.caCert));
        assertCode(ImageErrors.BAD_KEY, () -> PemFiles.readCertificates(keys.caKey));
        Path garbage = Files.writeString(dir.resolve("bad.pem"),
                "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
        assertCode(ImageErrors.BAD_KEY, () -> PemFiles.readPrivateKey(garbage));
        Path p256AsSec1 = keys.p256Key; // SEC1 naming prime256v1: refused by the curve check
        EnclaveException e = assertCode(ImageErrors.BAD_KEY, () -> PemFiles.readPrivateKey(p256AsSec1));
        assertTrue(e.getMessage().contains("P-384"), e.getMessage());
    }

    private static EnclaveException assertThrows(org.junit.jupiter.api.function.Executable run) {
        return org.junit.jupiter.api.Assertions.assertThrows(EnclaveException.class, run);
    }
}
