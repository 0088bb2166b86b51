package org.enclaveruntime.module;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.image.Sha384;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * The signature structure `module sign` appends to a module (docs/module-format.md, "Signature structure"):
 * a 192-byte header with the measurement, the signer's identity and the signed configuration, the signer's
 * public key (DER SubjectPublicKeyInfo), the signature over header and key, and a 16-byte trailer that lets a
 * reader find the structure from the end of the file.
 *
 * @param moduleSize the length of the unsigned module, which is where this structure starts
 */
public record ModuleSignature(long moduleSize, KeyType keyType, EnclaveConfig config, Sha384 mrenclave,
                              Sha384 mrsigner, byte[] publicKey, byte[] signature) {
    public static final byte[] MAGIC = "ENCLVMOD".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 1;
    public static final int HEADER_SIZE = 192;
    public static final int TRAILER_SIZE = 16;
    public static final int MAX_PUBLIC_KEY = 1024;
    static final int ATTRIBUTE_DEBUG = 1;

    public ModuleSignature {
        publicKey = publicKey.clone();
        signature = signature.clone();
    }

    @Override
    public byte[] publicKey() {
        return publicKey.clone();
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    /** Bytes of the whole structure, header to trailer. */
    public int size() {
        return size(keyType, publicKey.length);
    }

    static int size(KeyType type, int publicKeyLength) {
        return HEADER_SIZE + publicKeyLength + type.signatureSize() + TRAILER_SIZE;
    }

    /** What the signature covers: the header and the public key, [0, 192 + k) of the structure. */
    public byte[] signedBytes() {
        return signedBytes(moduleSize, keyType, config, mrenclave, mrsigner, publicKey);
    }

    static byte[] signedBytes(long moduleSize, KeyType type, EnclaveConfig config, Sha384 mrenclave,
                              Sha384 mrsigner, byte[] publicKey) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE + publicKey.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putShort((short) VERSION).putShort((short) HEADER_SIZE)
                .putInt(size(type, publicKey.length)).putLong(moduleSize)
                .putInt(type.code()).putInt(publicKey.length).putInt(type.signatureSize())
                .putInt(config.debugAllowed() ? ATTRIBUTE_DEBUG : 0)
                .putShort((short) config.prodId()).putShort((short) config.isvSvn()).putInt((int) config.tcsNum())
                .putLong(config.stackMaxSize()).putLong(config.heapMaxSize())
                .put(mrenclave.bytes()).put(mrsigner.bytes());
        b.position(HEADER_SIZE);
        b.put(publicKey);
        return b.array();
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(size()).order(ByteOrder.LITTLE_ENDIAN);
        b.put(signedBytes()).put(signature).putLong(size()).put(MAGIC);
        return b.array();
    }

    /** True when the file's last 8 bytes are the magic: it claims to be signed, and {@link #decode} must hold. */
    public static boolean claimsSignature(byte[] file, int length) {
        return length >= MAGIC.length
                && Arrays.equals(file, length - MAGIC.length, length, MAGIC, 0, MAGIC.length);
    }

    /**
     * The structure at the end of {@code file}, if it claims one; checked field by field (not the signature
     * itself, nor the measurement: {@link SignedModule} does that).
     *
     * @throws EnclaveException {@link ModuleErrors#BAD_SIGNATURE_BLOCK} naming the field
     */
    public static Optional<ModuleSignature> decode(byte[] file, int length, String what) {
        if (!claimsSignature(file, length)) {
            return Optional.empty();
        }
        ByteBuffer f = ByteBuffer.wrap(file, 0, length).slice().order(ByteOrder.LITTLE_ENDIAN);
        if (length < TRAILER_SIZE) {
            throw bad(what, "ends with the magic ENCLVMOD but is only " + length + " bytes long");
        }
        long total = f.getLong(length - TRAILER_SIZE);
        long min = size(KeyType.ECDSA_P384, 1);
        long max = size(KeyType.RSA_3072, MAX_PUBLIC_KEY);
        if (total < min || total > max || total > length) {
            throw bad(what, "has a signature structure size of " + Long.toUnsignedString(total)
                    + " in its trailer, outside " + min + " to " + Math.min(max, length));
        }
        int start = (int) (length - total);
        ByteBuffer b = f.slice(start, (int) total).order(ByteOrder.LITTLE_ENDIAN);
        if (!Arrays.equals(file, start, start + MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw bad(what, "has no ENCLVMOD magic at the start of its signature structure (offset " + start + ")");
        }
        int version = Short.toUnsignedInt(b.getShort(8));
        if (version != VERSION) {
            throw bad(what, "has signature structure version " + version + "; this enclavectl reads version 1");
        }
        require(what, "header_size", Short.toUnsignedInt(b.getShort(10)), HEADER_SIZE);
        require(what, "structure_size", Integer.toUnsignedLong(b.getInt(12)), total);
        require(what, "module_size", b.getLong(16), start);
        int typeCode = b.getInt(24);
        KeyType type = KeyType.of(typeCode).orElseThrow(() -> bad(what, "has key_type " + Integer.toUnsignedString(typeCode)
                + "; known: 1 (RSA-3072) and 2 (ECDSA P-384)"));
        long keyLength = Integer.toUnsignedLong(b.getInt(28));
        if (keyLength < 1 || keyLength > MAX_PUBLIC_KEY) {
            throw bad(what, "has public_key_size " + keyLength + ", outside 1 to " + MAX_PUBLIC_KEY);
        }
        require(what, "signature_size", Integer.toUnsignedLong(b.getInt(32)), type.signatureSize());
        require(what, "structure_size", total, size(type, (int) keyLength));
        int attributes = b.getInt(36);
        if ((attributes & ~ATTRIBUTE_DEBUG) != 0) {
            throw bad(what, "has attributes 0x" + Integer.toHexString(attributes) + "; only bit 0 (DEBUG) is defined");
        }
        for (int i = 160; i < HEADER_SIZE; i++) {
            if (b.get(i) != 0) {
                throw bad(what, "has a non-zero reserved byte at offset " + i + " of its signature structure");
            }
        }
        EnclaveConfig config;
        try {
            config = new EnclaveConfig(Short.toUnsignedInt(b.getShort(40)), Short.toUnsignedInt(b.getShort(42)),
                    b.getLong(48), b.getLong(56), Integer.toUnsignedLong(b.getInt(44)), attributes == ATTRIBUTE_DEBUG);
        } catch (IllegalArgumentException e) {
            throw bad(what, "has signed limits out of range: " + e.getMessage());
        }
        byte[] mrenclave = new byte[Sha384.LENGTH];
        byte[] mrsigner = new byte[Sha384.LENGTH];
        b.get(64, mrenclave);
        b.get(112, mrsigner);
        byte[] key = new byte[(int) keyLength];
        b.get(HEADER_SIZE, key);
        byte[] signature = new byte[type.signatureSize()];
        b.get(HEADER_SIZE + key.length, signature);
        return Optional.of(new ModuleSignature(start, type, config, Sha384.of(mrenclave), Sha384.of(mrsigner), key,
                signature));
    }

    private static void require(String what, String field, long value, long expected) {
        if (value != expected) {
            throw bad(what, "has " + field + " " + Long.toUnsignedString(value) + " in its signature structure, expected "
                    + expected);
        }
    }

    private static EnclaveException bad(String what, String problem) {
        return new EnclaveException(ModuleErrors.BAD_SIGNATURE_BLOCK, what + " " + problem);
    }
}
