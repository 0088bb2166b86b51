package org.enclaveruntime.module;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.image.Sha384;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * A module file, signed or not, read whole and checked: its ELF by {@link ModuleElf}, its signature structure
 * (when it ends with one) field by field, and on {@link #open} of a signed module everything the loader checks
 * before any of it runs: the module fits its HeapMaxSize, the measurement matches, MRSIGNER is the key's hash and
 * the signature verifies. A signed module that opens is one the loader would take (debug policy apart).
 */
public final class SignedModule {
    private final String origin;
    private final ModuleElf elf;
    private final Optional<ModuleSignature> signature;

    private SignedModule(String origin, ModuleElf elf, Optional<ModuleSignature> signature) {
        this.origin = origin;
        this.elf = elf;
        this.signature = signature;
    }

    public static SignedModule open(Path file) {
        byte[] bytes = read(file);
        return parse(bytes, file.toString());
    }

    /** Checks {@code bytes} as {@link #open} does a file; {@code what} names it in messages. */
    public static SignedModule parse(byte[] bytes, String what) {
        Optional<ModuleSignature> sig = ModuleSignature.decode(bytes, bytes.length, what);
        int moduleSize = sig.map(s -> (int) s.moduleSize()).orElse(bytes.length);
        ModuleElf elf = ModuleElf.parse(bytes, moduleSize, what);
        SignedModule module = new SignedModule(what, elf, sig);
        sig.ifPresent(s -> module.check(s));
        return module;
    }

    public String origin() {
        return origin;
    }

    public ModuleElf elf() {
        return elf;
    }

    public Optional<ModuleSignature> signature() {
        return signature;
    }

    public Sha384 measurement() {
        return signature.map(ModuleSignature::mrenclave).orElseGet(elf::measurement);
    }

    /** The signer's key, which must be {@code expected} (same DER SubjectPublicKeyInfo). */
    public void requireSigner(PublicKey expected, String named) {
        ModuleSignature s = requireSigned();
        if (!MessageDigest.isEqual(s.publicKey(), expected.getEncoded())) {
            throw new EnclaveException(ModuleErrors.WRONG_SIGNER, origin + " is signed by the key with MRSIGNER "
                    + s.mrsigner().hex() + ", not by " + named + " (MRSIGNER "
                    + Sha384.digest(expected.getEncoded()).hex() + ")");
        }
    }

    /** The signer must be the key of {@code cert}, and the certificate valid now. */
    public void requireSigner(X509Certificate cert, String named) {
        try {
            cert.checkValidity();
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            throw new EnclaveException(ModuleErrors.WRONG_SIGNER, named + " is not valid now (valid from "
                    + cert.getNotBefore().toInstant() + " to " + cert.getNotAfter().toInstant() + ")");
        }
        requireSigner(cert.getPublicKey(), named + " (" + cert.getSubjectX500Principal().getName() + ")");
    }

    public ModuleSignature requireSigned() {
        return signature.orElseThrow(() -> new EnclaveException(ModuleErrors.NOT_SIGNED, origin
                + " has no signature structure at its end"));
    }

    /** The rules in "Verifying a signed module" of docs/module-format.md, in that order. */
    private void check(ModuleSignature s) {
        requireFits(elf, s.config(), origin);
        Sha384 measured = elf.measurement();
        if (!measured.equals(s.mrenclave())) {
            throw new EnclaveException(ModuleErrors.MEASUREMENT_MISMATCH, origin + " measures " + measured.hex()
                    + ", but its signature structure holds MRENCLAVE " + s.mrenclave().hex());
        }
        Sha384 keyHash = Sha384.digest(s.publicKey());
        if (!keyHash.equals(s.mrsigner())) {
            throw new EnclaveException(ModuleErrors.BAD_SIGNATURE, origin + " holds MRSIGNER " + s.mrsigner().hex()
                    + ", but its public key hashes to " + keyHash.hex());
        }
        PublicKey key = ModuleKeys.publicKeyOf(s.keyType(), s.publicKey(), origin);
        boolean valid;
        try {
            Signature verifier = Signature.getInstance(s.keyType().algorithm());
            verifier.initVerify(key);
            verifier.update(s.signedBytes());
            valid = verifier.verify(s.signature());
        } catch (GeneralSecurityException e) {
            valid = false;
        }
        if (!valid) {
            throw new EnclaveException(ModuleErrors.BAD_SIGNATURE, origin + ": the " + s.keyType().label()
                    + " signature does not verify with the public key stored with it (MRSIGNER " + s.mrsigner().hex() + ")");
        }
    }

    /** The module's memory comes out of HeapMaxSize. */
    static void requireFits(ModuleElf elf, EnclaveConfig config, String what) {
        if (elf.imageSize() > config.heapMaxSize()) {
            throw new EnclaveException(ModuleErrors.TOO_LARGE, what + " needs 0x" + Long.toHexString(elf.imageSize())
                    + " bytes of memory (" + elf.imageSize() + "), more than HeapMaxSize 0x"
                    + Long.toHexString(config.heapMaxSize()));
        }
    }

    static byte[] read(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new EnclaveException(ModuleErrors.UNREADABLE, file + " is not a regular file"
                        + (Files.exists(file) ? "" : " (it does not exist)"));
            }
            long size = Files.size(file);
            if (size > ModuleElf.MAX_FILE_SIZE + (long) ModuleSignature.size(KeyType.RSA_3072, ModuleSignature.MAX_PUBLIC_KEY)) {
                throw new EnclaveException(ModuleErrors.UNREADABLE, file + " is " + size + " bytes, more than a module may be");
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new EnclaveException(ModuleErrors.UNREADABLE, file + ": cannot read: " + IoReason.of(e));
        }
    }
}
