package org.enclaveruntime.module;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.image.PemFiles;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.List;

/**
 * Reads module signing keys (RSA-3072 or EC P-384) and the public keys or certificates that `module verify`
 * checks a signer against, from PEM as openssl writes them: PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY"
 * (`openssl genrsa -traditional`, what SGX projects hold), SEC1 "EC PRIVATE KEY", "PUBLIC KEY",
 * "RSA PUBLIC KEY" and "CERTIFICATE".
 */
public final class ModuleKeys {
    /** 1.2.840.113549.1.1.1 rsaEncryption, then NULL parameters. */
    private static final byte[] RSA_ALGORITHM = Der.tlv(0x30,
            new byte[] {0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01},
            new byte[] {0x05, 0x00});
    /** 1.2.840.10045.2.1 id-ecPublicKey with 1.3.132.0.34 secp384r1. */
    private static final byte[] EC_P384_ALGORITHM = Der.tlv(0x30,
            new byte[] {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01},
            new byte[] {0x06, 0x05, 0x2b, (byte) 0x81, 0x04, 0x00, 0x22});

    private ModuleKeys() {
    }

    /** A private key with its public key, whose DER SubjectPublicKeyInfo is the signer's identity. */
    public record SigningKey(KeyType type, PrivateKey privateKey, PublicKey publicKey) {
    }

    public static SigningKey readSigningKey(Path file) {
        for (PemFiles.Block block : PemFiles.readBlocks(file, ModuleErrors.BAD_KEY)) {
            try {
                switch (block.label()) {
                    case "PRIVATE KEY":
                        return fromPkcs8(file, block.der());
                    case "RSA PRIVATE KEY":
                        return fromPkcs8(file, Der.tlv(0x30, new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM,
                                Der.tlv(0x04, block.der())));
                    case "EC PRIVATE KEY":
                        return fromPkcs8(file, PemFiles.sec1ToPkcs8(file, block.der(), ModuleErrors.BAD_KEY));
                    case "ENCRYPTED PRIVATE KEY":
                        throw bad(file + ": the key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)");
                    default:
                        break;
                }
            } catch (IllegalArgumentException e) {
                throw bad(file + ": the " + block.label() + " block is not valid DER (" + e.getMessage() + ")");
            }
        }
        throw bad(file + ": no \"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\" block");
    }

    /**
     * The public key in {@code file}: a PUBLIC KEY or RSA PUBLIC KEY block, or else the public half of a private
     * key in it (so a signer may check with the key file it signed with).
     */
    public static PublicKey readPublicKey(Path file) {
        List<PemFiles.Block> blocks = PemFiles.readBlocks(file, ModuleErrors.BAD_KEY);
        for (PemFiles.Block block : blocks) {
            try {
                byte[] spki = switch (block.label()) {
                    case "PUBLIC KEY" -> block.der();
                    case "RSA PUBLIC KEY" -> Der.tlv(0x30, RSA_ALGORITHM, Der.tlv(0x03, new byte[] {0}, block.der()));
                    default -> null;
                };
                if (spki != null) {
                    PublicKey key = publicFromSpki(file, spki);
                    checked(file, key);
                    return key;
                }
            } catch (IllegalArgumentException e) {
                throw bad(file + ": the " + block.label() + " block is not valid DER (" + e.getMessage() + ")");
            }
        }
        if (blocks.stream().anyMatch(b -> b.label().endsWith("PRIVATE KEY"))) {
            return readSigningKey(file).publicKey();
        }
        throw bad(file + ": no \"BEGIN PUBLIC KEY\" block (write one with `openssl pkey -in KEY -pubout`)");
    }

    /** The first certificate in {@code file}; its key must be one a module can be signed with. */
    public static X509Certificate readCertificate(Path file) {
        for (PemFiles.Block block : PemFiles.readBlocks(file, ModuleErrors.BAD_KEY)) {
            if (block.label().equals("CERTIFICATE")) {
                try {
                    X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                            .generateCertificate(new ByteArrayInputStream(block.der()));
                    checked(file, cert.getPublicKey());
                    return cert;
                } catch (CertificateException e) {
                    throw bad(file + ": the certificate cannot be read: " + e.getMessage());
                }
            }
        }
        throw bad(file + ": no \"BEGIN CERTIFICATE\" block");
    }

    /** The enclave's verifier (src/guest/rsa.c) refuses larger public exponents, so signing with one must fail here. */
    private static final int MAX_RSA_EXPONENT_BITS = 256;

    /** The scheme {@code key} signs with: RSA with a 3072-bit modulus or EC on P-384; anything else is refused. */
    public static KeyType typeOf(PublicKey key) {
        if (key instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() == 3072
                && rsa.getPublicExponent().bitLength() <= MAX_RSA_EXPONENT_BITS) {
            return KeyType.RSA_3072;
        }
        if (key instanceof ECPublicKey ec && ec.getParams().getCurve().getField().getFieldSize() == 384) {
            return KeyType.ECDSA_P384;
        }
        throw new IllegalArgumentException(describe(key));
    }

    /** Decodes a DER SubjectPublicKeyInfo as a module signer's key, or fails with {@link ModuleErrors#BAD_SIGNATURE_BLOCK}. */
    static PublicKey publicKeyOf(KeyType type, byte[] spki, String what) {
        try {
            PublicKey key = KeyFactory.getInstance(type == KeyType.RSA_3072 ? "RSA" : "EC")
                    .generatePublic(new X509EncodedKeySpec(spki));
            if (typeOf(key) != type) {
                throw new IllegalArgumentException("not the key_type's key");
            }
            return key;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new EnclaveException(ModuleErrors.BAD_SIGNATURE_BLOCK, what + ": the stored public key is not a "
                    + type.label() + " SubjectPublicKeyInfo (" + e.getMessage() + ")");
        }
    }

    private static SigningKey fromPkcs8(Path file, byte[] pkcs8) {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(pkcs8);
        try {
            PrivateKey rsa = KeyFactory.getInstance("RSA").generatePrivate(spec);
            if (!(rsa instanceof RSAPrivateCrtKey crt)) {
                throw bad(file + ": the RSA key lacks its public exponent (not a CRT key)");
            }
            PublicKey pub = KeyFactory.getInstance("RSA")
                    .generatePublic(new RSAPublicKeySpec(crt.getModulus(), crt.getPublicExponent()));
            return new SigningKey(checked(file, pub), rsa, pub);
        } catch (GeneralSecurityException notRsa) {
            // Not RSA: EC below.
        }
        PrivateKey ec;
        try {
            ec = KeyFactory.getInstance("EC").generatePrivate(spec);
        } catch (GeneralSecurityException e) {
            throw bad(file + ": the key is neither RSA nor EC (" + e.getMessage() + ")");
        }
        PublicKey pub = publicFromSpki(file, Der.tlv(0x30, EC_P384_ALGORITHM, ecPublicPoint(file, pkcs8)));
        return new SigningKey(checked(file, pub), ec, pub);
    }

    /**
     * The BIT STRING of the public point that openssl stores in the SEC1 key inside PKCS#8:
     * PrivateKeyInfo { version, algorithm, OCTET STRING { ECPrivateKey { 1, key, [0] curve, [1] BIT STRING } } }.
     * The JDK cannot derive it from the private scalar.
     */
    private static byte[] ecPublicPoint(Path file, byte[] pkcs8) {
        Der info = Der.enter(pkcs8, 0x30);
        info.next(0x02);
        info.next(0x30);
        Der sec1 = Der.enter(info.next(0x04).bytes(), 0x30);
        sec1.next(0x02);
        sec1.next(0x04);
        while (sec1.hasMore()) {
            if (sec1.peekTag() == 0xa1) {
                return Der.tlv(0x03, sec1.next(0xa1).next(0x03).bytes());
            }
            sec1.next(sec1.peekTag());
        }
        throw bad(file + ": the EC key does not carry its public key; write it again with "
                + "`openssl pkey -in KEY -out KEY2` (openssl includes the public key)");
    }

    private static PublicKey publicFromSpki(Path file, byte[] spki) {
        for (String algorithm : new String[] {"RSA", "EC"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(spki));
            } catch (GeneralSecurityException e) {
                // try the other
            }
        }
        throw bad(file + ": the public key is neither RSA nor EC");
    }

    private static KeyType checked(Path file, PublicKey key) {
        try {
            return typeOf(key);
        } catch (IllegalArgumentException e) {
            throw bad(file + ": " + e.getMessage() + "; modules are signed with RSA-3072 or EC P-384 keys");
        }
    }

    private static String describe(PublicKey key) {
        if (key instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() == 3072) {
            return "the RSA key's public exponent has " + rsa.getPublicExponent().bitLength()
                    + " bits; the enclave takes exponents below 2^256 (FIPS 186-4), e.g. 3 or 65537";
        }
        if (key instanceof RSAPublicKey rsa) {
            return "the key is RSA with a " + rsa.getModulus().bitLength() + "-bit modulus, not 3072";
        }
        if (key instanceof ECPublicKey ec) {
            return "the key is EC on a " + ec.getParams().getCurve().getField().getFieldSize()
                    + "-bit curve, not P-384";
        }
        return "the key is " + key.getAlgorithm() + ", neither RSA nor EC";
    }

    private static EnclaveException bad(String problem) {
        return new EnclaveException(ModuleErrors.BAD_KEY, problem);
    }
}
