package org.enclaveruntime.module;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.image.Sha384;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.util.Arrays;

/**
 * `module sign`: measures a module, appends the signature structure and writes the result to another file; the
 * unsigned module stays as it was, as in SGX builds. A module that is already signed is signed again from its
 * unsigned part (the old structure is replaced, never nested).
 */
public final class ModuleSigner {
    private final ModuleKeys.SigningKey key;
    private final EnclaveConfig config;

    public ModuleSigner(ModuleKeys.SigningKey key, EnclaveConfig config) {
        this.key = key;
        this.config = config;
    }

    /** Signs {@code module} into {@code out} (replaced atomically) and returns the result, opened and checked. */
    public SignedModule signTo(Path module, Path out) {
        try {
            if (Files.exists(out) && Files.isSameFile(module, out)) {
                throw new EnclaveException(GeneralErrors.USAGE, "--out " + out + " is the module itself; the unsigned "
                        + "module stays as it is, so write the signed one to another file");
            }
        } catch (IOException e) {
            throw new EnclaveException(ModuleErrors.UNREADABLE, out + ": " + IoReason.of(e));
        }
        byte[] signed = sign(SignedModule.read(module), module.toString());
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            Files.write(tmp, signed);
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the write's failure is the one to report
            }
            throw new EnclaveException(GeneralErrors.IO, "cannot write " + out + ": " + IoReason.of(e));
        }
        return SignedModule.open(out);
    }

    /** The signed module's bytes: the unsigned module followed by the signature structure. */
    public byte[] sign(byte[] file, String what) {
        int moduleSize = ModuleSignature.decode(file, file.length, what).map(s -> (int) s.moduleSize()).orElse(file.length);
        byte[] unsigned = Arrays.copyOf(file, moduleSize);
        ModuleElf elf = ModuleElf.parse(unsigned, what);
        SignedModule.requireFits(elf, config, what);
        byte[] publicKey = key.publicKey().getEncoded();
        Sha384 measurement = elf.measurement();
        byte[] message = ModuleSignature.signedBytes(moduleSize, key.type(), config, measurement,
                Sha384.digest(publicKey), publicKey);
        byte[] signature;
        try {
            Signature signer = Signature.getInstance(key.type().algorithm());
            signer.initSign(key.privateKey());
            signer.update(message);
            signature = signer.sign();
        } catch (GeneralSecurityException e) {
            throw new EnclaveException(ModuleErrors.BAD_KEY, "cannot sign with the " + key.type().label() + " key: "
                    + e.getMessage());
        }
        ModuleSignature structure = new ModuleSignature(moduleSize, key.type(), config, measurement,
                Sha384.digest(publicKey), publicKey, signature);
        byte[] out = Arrays.copyOf(unsigned, moduleSize + structure.size());
        byte[] encoded = structure.encode();
        System.arraycopy(encoded, 0, out, moduleSize, encoded.length);
        // A private key that does not match its stored public half would sign modules nobody can verify.
        SignedModule.parse(out, what + " (signed)");
        return out;
    }
}
