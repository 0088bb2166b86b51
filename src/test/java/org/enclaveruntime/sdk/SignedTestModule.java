package org.enclaveruntime.sdk;

import org.enclaveruntime.image.Sha384;
import org.enclaveruntime.module.EnclaveConfig;
import org.enclaveruntime.module.KeyType;
import org.enclaveruntime.module.ModuleElf;
import org.enclaveruntime.module.ModuleKeys;
import org.enclaveruntime.module.ModuleSignature;
import org.enclaveruntime.module.ModuleSigner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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

    public ModuleKeys.SigningKey key() {
        return key;
    }

    /**
     * {@code unsigned} signed without any host check: the measurement computed here from docs/module-format.md
     * ("Measurement"), not by ModuleElf, so that modules the host would refuse (an unsupported relocation) still
     * reach the enclave's loader with a valid signature.
     */
    public byte[] signUnchecked(byte[] unsigned, EnclaveConfig config) {
        byte[] pub = key.publicKey().getEncoded();
        Sha384 mrenclave = measure(unsigned);
        ModuleSignature draft = new ModuleSignature(unsigned.length, key.type(), config, mrenclave, Sha384.digest(pub),
                pub, new byte[key.type().signatureSize()]);
        try {
            Signature signer = Signature.getInstance(key.type().algorithm());
            signer.initSign(key.privateKey());
            signer.update(draft.signedBytes());
            ModuleSignature signed = new ModuleSignature(unsigned.length, key.type(), config, mrenclave,
                    Sha384.digest(pub), pub, signer.sign());
            return concat(unsigned, signed.encode());
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The documented measurement: "EMODMEAS", version, PT_LOAD count, PT_DYNAMIC, then each PT_LOAD and its bytes. */
    static Sha384 measure(byte[] elf) {
        ByteBuffer b = le(elf);
        long phoff = b.getLong(32);
        int phnum = Short.toUnsignedInt(b.getShort(56));
        long dynVaddr = 0;
        long dynMemsz = 0;
        java.io.ByteArrayOutputStream loads = new java.io.ByteArrayOutputStream();
        int kept = 0;
        for (int i = 0; i < phnum; i++) {
            int at = (int) (phoff + 56L * i);
            int type = b.getInt(at);
            if (type == 2) {
                dynVaddr = b.getLong(at + 16);
                dynMemsz = b.getLong(at + 40);
            }
            long filesz = b.getLong(at + 32);
            long memsz = b.getLong(at + 40);
            if (type != 1 || (filesz == 0 && memsz == 0)) {
                continue;
            }
            kept++;
            ByteBuffer e = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            e.putLong(b.getLong(at + 16)).putLong(memsz).putLong(filesz).putInt(b.getInt(at + 4)).putInt(0);
            loads.writeBytes(e.array());
            int off = (int) b.getLong(at + 8);
            loads.write(elf, off, (int) filesz);
        }
        ByteBuffer head = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        head.put("EMODMEAS".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(kept).putLong(dynVaddr).putLong(dynMemsz);
        return Sha384.digest(concat(head.array(), loads.toByteArray()));
    }

    /** File offset of module address {@code vaddr}, through the PT_LOAD holding it in the file. */
    static int fileOffset(byte[] elf, long vaddr) {
        ByteBuffer b = le(elf);
        int phnum = Short.toUnsignedInt(b.getShort(56));
        for (int i = 0; i < phnum; i++) {
            int at = (int) (b.getLong(32) + 56L * i);
            long v = b.getLong(at + 16);
            if (b.getInt(at) == 1 && vaddr >= v && vaddr < v + b.getLong(at + 32)) {
                return (int) (b.getLong(at + 8) + vaddr - v);
            }
        }
        throw new AssertionError("address 0x" + Long.toHexString(vaddr) + " is in no segment's file bytes");
    }

    /** File offset of the first byte of the first executable PT_LOAD's file bytes. */
    static int firstCodeByte(byte[] elf) {
        ByteBuffer b = le(elf);
        int phnum = Short.toUnsignedInt(b.getShort(56));
        for (int i = 0; i < phnum; i++) {
            int at = (int) (b.getLong(32) + 56L * i);
            if (b.getInt(at) == 1 && (b.getInt(at + 4) & 1) != 0 && b.getLong(at + 32) > 0) {
                return (int) b.getLong(at + 8);
            }
        }
        throw new AssertionError("no executable segment with file bytes");
    }

    /** The unsigned module with its first .rela.dyn entry's type made R_X86_64_64 (1), which no loader here applies. */
    static byte[] withUnsupportedRelocation(byte[] elf) {
        byte[] copy = elf.clone();
        ByteBuffer b = le(copy);
        int phnum = Short.toUnsignedInt(b.getShort(56));
        for (int i = 0; i < phnum; i++) {
            int at = (int) (b.getLong(32) + 56L * i);
            if (b.getInt(at) == 2) {
                for (int e = (int) b.getLong(at + 8); b.getLong(e) != 0; e += 16) {
                    if (b.getLong(e) == 7) { // DT_RELA
                        int rela = fileOffset(copy, b.getLong(e + 8));
                        long info = b.getLong(rela + 8);
                        b.putLong(rela + 8, (info & 0xffffffff00000000L) | 1);
                        return copy;
                    }
                }
            }
        }
        throw new AssertionError("the test module has no .rela.dyn to edit");
    }

    /** The unsigned module with its first import renamed (last letter X), a name the runtime does not offer. */
    static byte[] withMissingImport(byte[] elf) {
        java.util.List<String> imports = ModuleElf.parse(elf, "test module").imports();
        if (imports.isEmpty()) {
            throw new AssertionError("the test module imports nothing, so no import can go missing");
        }
        byte[] name = (imports.get(0) + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] copy = elf.clone();
        int found = 0;
        for (int i = 0; i + name.length <= copy.length; i++) {
            if (Arrays.equals(copy, i, i + name.length, name, 0, name.length)) {
                copy[i + name.length - 2] = 'X';
                found++;
            }
        }
        if (found == 0) {
            throw new AssertionError("import " + imports.get(0) + " not found in the file");
        }
        return copy;
    }
}
