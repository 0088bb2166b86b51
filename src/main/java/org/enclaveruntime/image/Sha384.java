package org.enclaveruntime.image;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** A SHA-384 value (48 bytes). Immutable: the bytes are copied in and out. */
public final class Sha384 {
    public static final int LENGTH = 48;
    private static final Sha384 ZERO = new Sha384(new byte[LENGTH]);

    private final byte[] bytes;

    private Sha384(byte[] bytes) {
        this.bytes = bytes;
    }

    public static Sha384 of(byte[] value) {
        if (value.length != LENGTH) {
            throw new IllegalArgumentException("SHA-384 is 48 bytes, not " + value.length);
        }
        return new Sha384(value.clone());
    }

    /** The register value every PCR starts from: 48 zero bytes. */
    public static Sha384 zero() {
        return ZERO;
    }

    public static Sha384 digest(byte[] data) {
        MessageDigest md = newDigest();
        md.update(data);
        return new Sha384(md.digest());
    }

    /** Hashes the remaining bytes of {@code data} without moving its position. */
    public static Sha384 digest(ByteBuffer data) {
        MessageDigest md = newDigest();
        md.update(data.duplicate());
        return new Sha384(md.digest());
    }

    /** pcr' = SHA384(pcr ‖ measurement). */
    public Sha384 extend(Sha384 measurement) {
        MessageDigest md = newDigest();
        md.update(bytes);
        md.update(measurement.bytes);
        return new Sha384(md.digest());
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    void writeTo(ByteBuffer out) {
        out.put(bytes);
    }

    /** Lower-case hex, 96 characters. */
    public String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    static MessageDigest newDigest() {
        try {
            // Cloning skips the provider lookup, which costs more than hashing a small section.
            return (MessageDigest) Prototype.DIGEST.clone();
        } catch (CloneNotSupportedException e) {
            return Prototype.lookUp();
        }
    }

    private static final class Prototype {
        static final MessageDigest DIGEST = lookUp();

        static MessageDigest lookUp() {
            try {
                return MessageDigest.getInstance("SHA-384");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JDK has no SHA-384", e);
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sha384 other && MessageDigest.isEqual(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
