package org.enclaveruntime.module;

import java.util.Optional;

/**
 * The signature schemes a module may be signed with (the signature structure's key_type). RSA-3072 because SGX
 * projects already hold such keys (with public exponent 3); ECDSA P-384 as images use. Both hash with SHA-384;
 * signatures have a fixed size, so the structure's length is known before signing.
 */
public enum KeyType {
    /** RSASSA-PKCS1-v1_5 with SHA-384, modulus of exactly 3072 bits, any public exponent (3 included). */
    RSA_3072(1, 384, "SHA384withRSA", "RSA-3072"),
    /** ECDSA on P-384 with SHA-384; the signature is r ‖ s, 48 bytes each, big-endian (IEEE P1363). */
    ECDSA_P384(2, 96, "SHA384withECDSAinP1363Format", "ECDSA-P384");

    private final int code;
    private final int signatureSize;
    private final String algorithm;
    private final String label;

    KeyType(int code, int signatureSize, String algorithm, String label) {
        this.code = code;
        this.signatureSize = signatureSize;
        this.algorithm = algorithm;
        this.label = label;
    }

    public int code() {
        return code;
    }

    public int signatureSize() {
        return signatureSize;
    }

    /** The JDK Signature algorithm name. */
    public String algorithm() {
        return algorithm;
    }

    /** What describe prints. */
    public String label() {
        return label;
    }

    public static Optional<KeyType> of(int code) {
        for (KeyType t : values()) {
            if (t.code == code) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
