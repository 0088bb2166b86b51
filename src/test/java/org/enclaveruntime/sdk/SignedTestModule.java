package org.enclaveruntime.sdk;

import org.enclaveruntime.module.EnclaveConfig;
import org.enclaveruntime.module.KeyType;
import org.enclaveruntime.module.ModuleKeys;
import org.enclaveruntime.module.ModuleSigner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Modules the build compiles (target/guest/modules, src/guest/modules), signed at test time with a fresh P-384
 * key: what an application loads. Editing the bytes of a signed module, or signing edited bytes, makes the bad
 * modules the loader must refuse.
 */
public final class SignedTestModule {
    /** TCSNum 8 (eight threads call at once), production (DisableDebug = 1), default sizes. */
    public static final EnclaveConfig PRODUCTION = new EnclaveConfig(1, 1, 0x40000, 0x400000, 8, false);
    public static final EnclaveConfig DEBUG = new EnclaveConfig(1, 1, 0x40000, 0x400000, 8, true);

    private final ModuleKeys.SigningKey key;

    public SignedTestModule() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp384r1"));
            KeyPair pair = g.generateKeyPair();
            key = new ModuleKeys.SigningKey(KeyType.ECDSA_P384, pair.getPrivate(), pair.getPublic());
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    /** target/guest/modules/{@code name}, as the build made it. */
    public static Path built(String name) {
        Path p = Path.of(System.getProperty("enclave.build.dir", "target"), "guest", "modules", name);
        assertTrue(Files.isRegularFile(p), p + " is not built (mvn generate-resources builds it)");
        return p;
    }

    public static byte[] bytes(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** {@code unsigned} signed with this key and {@code config}. */
    public byte[] sign(byte[] unsigned, EnclaveConfig config) {
        return new ModuleSigner(key, config).sign(unsigned, "test module");
    }

    /** Signs {@code unsigned} into {@code out} and returns {@code out}. */
    public Path signTo(byte[] unsigned, EnclaveConfig config, Path out) {
        try {
            Files.write(out, sign(unsigned, config));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out;
    }
}
