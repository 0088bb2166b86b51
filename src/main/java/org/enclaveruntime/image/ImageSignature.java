package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The SIGNATURE section (docs/image-format.md, "SIGNATURE"): the signer's certificate chain, leaf first,
 * and an ECDSA P-384 / SHA-384 signature over the header and section table of the unsigned image. The
 * table holds every other section's SHA-384, so signing it signs every byte, without hashing the payload
 * a second time.
 */
public record ImageSignature(List<X509Certificate> chain, byte[] signature) {
    static final int SCHEME_ECDSA_P384_SHA384 = 1;
    static final String ALGORITHM = "SHA384withECDSA";
    private static final int FIXED_PART = 16;
    private static final int MAX_CERTS = 8;
    private static final int MAX_CERT_SIZE = 65536;
    private static final int MAX_SIGNATURE_SIZE = 256;

    public ImageSignature {
        chain = List.copyOf(chain);
        signature = signature.clone();
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a signature needs the signing certificate");
        }
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    public X509Certificate signer() {
        return chain.get(0);
    }

    /** The signer's subject, as RFC 2253 text. */
    public String signerSubject() {
        return signer().getSubjectX500Principal().getName();
    }

    /** SHA-384 of the signing certificate's DER: the input pcr8 is extended with. */
    public Sha384 signerFingerprint() {
        return Sha384.digest(der(signer()));
    }

    /** Signs {@code message} (the unsigned header and table) with {@code key}. */
    static ImageSignature create(byte[] message, PrivateKey key, List<X509Certificate> chain) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(key);
            s.update(message);
            return new ImageSignature(chain, s.sign());
        } catch (GeneralSecurityException e) {
            throw new EnclaveException(ImageErrors.BAD_KEY, "cannot sign with the given key: " + e.getMessage(), e);
        }
    }

    byte[] encode() {
        List<byte[]> certs = chain.stream().map(ImageSignature::der).toList();
        int size = FIXED_PART + signature.length + certs.stream().mapToInt(c -> 4 + c.length).sum();
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(SCHEME_ECDSA_P384_SHA384).putInt(certs.size()).putInt(signature.length).putInt(0);
        for (byte[] c : certs) {
            b.putInt(c.length).put(c);
        }
        b.put(signature);
        return b.array();
    }

    /** Reads the section and checks the signature against its own leaf certificate. */
    static ImageSignature decodeAndCheck(ByteBuffer section, byte[] signedMessage, String where) {
        ByteBuffer b = section.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < FIXED_PART) {
            throw badContent(where, "is " + b.remaining() + " bytes, shorter than its 16-byte fixed part");
        }
        int scheme = b.getInt();
        int certCount = b.getInt();
        int sigLength = b.getInt();
        int reserved = b.getInt();
        if (scheme != SCHEME_ECDSA_P384_SHA384) {
            throw badContent(where, "uses signature scheme " + Integer.toUnsignedString(scheme)
                    + "; only 1 (ECDSA P-384 with SHA-384) is defined");
        }
        if (reserved != 0 || certCount < 1 || certCount > MAX_CERTS || sigLength < 1 || sigLength > MAX_SIGNATURE_SIZE) {
            throw badContent(where, "has a bad fixed part (certificates " + Integer.toUnsignedString(certCount)
                    + ", signature length " + Integer.toUnsignedString(sigLength) + ", reserved " + reserved + ")");
        }
        List<X509Certificate> certs = new ArrayList<>();
        for (int i = 0; i < certCount; i++) {
            if (b.remaining() < 4) {
                throw badContent(where, "ends inside certificate " + i);
            }
            int length = b.getInt();
            if (length < 1 || length > MAX_CERT_SIZE || length > b.remaining()) {
                throw badContent(where, "has certificate " + i + " of " + Integer.toUnsignedString(length)
                        + " bytes, with " + b.remaining() + " bytes left in the section");
            }
            byte[] der = new byte[length];
            b.get(der);
            certs.add(parseCertificate(der, where + " certificate " + i));
        }
        if (b.remaining() != sigLength) {
            throw badContent(where, "has " + b.remaining() + " bytes after the certificates, but the signature "
                    + "length says " + sigLength);
        }
        byte[] sig = new byte[sigLength];
        b.get(sig);
        ImageSignature result = new ImageSignature(certs, sig);
        result.check(signedMessage, where);
        return result;
    }

    private void check(byte[] message, String where) {
        PublicKey key = signer().getPublicKey();
        if (!isP384(key)) {
            throw new EnclaveException(ImageErrors.BAD_SIGNATURE, where + ": the signing certificate "
                    + signerSubject() + " does not hold an EC P-384 key");
        }
        boolean valid;
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(key);
            s.update(message);
            valid = s.verify(signature);
        } catch (GeneralSecurityException e) {
            throw new EnclaveException(ImageErrors.BAD_SIGNATURE, where + ": the signature cannot be checked: "
                    + e.getMessage(), e);
        }
        if (!valid) {
            throw new EnclaveException(ImageErrors.BAD_SIGNATURE, where + ": the signature does not match the "
                    + "image's header and section table for signer " + signerSubject());
        }
    }

    /**
     * Checks that the signer is {@code trusted} itself, or chains to it through the certificates stored
     * in the image (PKIX: signatures, validity dates, CA constraints; no revocation lookups).
     */
    void requireTrustedBy(X509Certificate trusted, String where) {
        if (MessageDigest.isEqual(der(signer()), der(trusted))) {
            try {
                signer().checkValidity();
                return;
            } catch (CertificateException e) {
                throw untrusted(where, "the signing certificate is not valid now: " + e.getMessage(), e);
            }
        }
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<X509Certificate> path = new ArrayList<>(chain);
            // A chain stored with its root is fine; PKIX wants the path without the anchor.
            path.removeIf(c -> MessageDigest.isEqual(der(c), der(trusted)));
            CertPath certPath = cf.generateCertPath(path);
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(trusted, null)));
            params.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(certPath, params);
        } catch (GeneralSecurityException e) {
            throw untrusted(where, "the signer " + signerSubject() + " is not " + trusted.getSubjectX500Principal()
                    .getName() + " nor issued by it: " + e.getMessage(), e);
        }
    }

    static boolean isP384(PublicKey key) {
        return key instanceof ECPublicKey ec && ec.getParams().getCurve().getField().getFieldSize() == 384;
    }

    static X509Certificate parseCertificate(byte[] der, String where) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | RuntimeException e) {
            // The JDK's DER decoder is fed bytes whose hash matched; a failure is a bad writer.
            throw badContent(where, "is not an X.509 certificate: " + e.getMessage());
        }
    }

    static byte[] der(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (CertificateException e) {
            throw new IllegalStateException("a parsed certificate cannot be re-encoded", e);
        }
    }

    private static EnclaveException badContent(String where, String problem) {
        return new EnclaveException(ImageErrors.BAD_CONTENT, where + " " + problem);
    }

    private static EnclaveException untrusted(String where, String problem, Throwable cause) {
        return new EnclaveException(ImageErrors.UNTRUSTED_SIGNER, where + ": " + problem, cause);
    }
}
