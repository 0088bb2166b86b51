package org.enclaveruntime.image;

import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads signing keys and certificates from PEM files: keys as PKCS#8 ("BEGIN PRIVATE KEY") or SEC1
 * ("BEGIN EC PRIVATE KEY", what `openssl ecparam -genkey` writes), certificates as X.509.
 */
public final class PemFiles {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    /** 1.2.840.10045.2.1 id-ecPublicKey */
    private static final byte[] OID_EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
    /** 1.3.132.0.34 secp384r1 */
    private static final byte[] OID_SECP384R1 = {0x06, 0x05, 0x2b, (byte) 0x81, 0x04, 0x00, 0x22};

    private PemFiles() {
    }

    /** The first private key in {@code file}; must be EC P-384. */
    public static PrivateKey readPrivateKey(Path file) {
        String text = readText(file);
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String label = m.group(1);
            if (label.equals("PRIVATE KEY") || label.equals("EC PRIVATE KEY")) {
                byte[] der = decode(file, label, m.group(2));
                byte[] pkcs8 = label.equals("PRIVATE KEY") ? der : sec1ToPkcs8(file, der);
                try {
                    return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
                } catch (GeneralSecurityException e) {
                    throw bad(file + ": the " + label + " block is not an EC private key (" + e.getMessage()
                            + "); an EC P-384 key is required");
                }
            }
            if (label.equals("ENCRYPTED PRIVATE KEY")) {
                throw bad(file + ": the key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)");
            }
        }
        throw bad(file + ": no \"BEGIN PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\" block");
    }

    /** Every certificate in {@code file}, in file order (the signing certificate first). */
    public static List<X509Certificate> readCertificates(Path file) {
        String text = readText(file);
        Matcher m = BLOCK.matcher(text);
        List<X509Certificate> certs = new ArrayList<>();
        while (m.find()) {
            if (!m.group(1).equals("CERTIFICATE")) {
                continue;
            }
            byte[] der = decode(file, "CERTIFICATE", m.group(2));
            try {
                certs.add((X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(der)));
            } catch (CertificateException e) {
                throw bad(file + ": certificate " + (certs.size() + 1) + " cannot be read: " + e.getMessage());
            }
        }
        if (certs.isEmpty()) {
            throw bad(file + ": no \"BEGIN CERTIFICATE\" block");
        }
        return certs;
    }

    /** The first certificate in {@code file}. */
    public static X509Certificate readCertificate(Path file) {
        return readCertificates(file).get(0);
    }

    /**
     * Wraps a SEC1 ECPrivateKey (RFC 5915) into a PKCS#8 PrivateKeyInfo (RFC 5208):
     * SEQUENCE { INTEGER 0, SEQUENCE { id-ecPublicKey, secp384r1 }, OCTET STRING { the SEC1 DER } }.
     * The curve must be P-384: the SEC1 key's [0] parameters, when present, must name it.
     */
    static byte[] sec1ToPkcs8(Path file, byte[] sec1) {
        return sec1ToPkcs8(file, sec1, ImageErrors.BAD_KEY);
    }

    /** As {@link #sec1ToPkcs8(Path, byte[])}, failing with {@code code}: modules read keys with their own codes. */
    public static byte[] sec1ToPkcs8(Path file, byte[] sec1, ErrorCode code) {
        checkSec1Curve(file, sec1, code);
        byte[] algorithm = tlv(0x30, concat(OID_EC_PUBLIC_KEY, OID_SECP384R1));
        byte[] version = {0x02, 0x01, 0x00};
        return tlv(0x30, concat(version, algorithm, tlv(0x04, sec1)));
    }

    private static void checkSec1Curve(Path file, byte[] sec1, ErrorCode code) {
        // ECPrivateKey ::= SEQUENCE { version INTEGER 1, privateKey OCTET STRING, [0] OID OPTIONAL, [1] BIT STRING OPTIONAL }
        int[] at = {0};
        int seqEnd = enter(file, sec1, at, 0x30, sec1.length, code);
        skip(file, sec1, at, 0x02, seqEnd, code);
        skip(file, sec1, at, 0x04, seqEnd, code);
        if (at[0] < seqEnd && (sec1[at[0]] & 0xff) == 0xa0) {
            int paramsEnd = enter(file, sec1, at, 0xa0, seqEnd, code);
            byte[] oid = Arrays.copyOfRange(sec1, at[0], paramsEnd);
            if (!Arrays.equals(oid, OID_SECP384R1)) {
                throw bad(code, file + ": the EC key is not on curve P-384 (secp384r1); create one with "
                        + "`openssl ecparam -name secp384r1 -genkey -noout`");
            }
        }
    }

    /** Reads a tag and length at at[0], leaves at[0] at the value; returns the value's end. */
    private static int enter(Path file, byte[] der, int[] at, int tag, int limit, ErrorCode code) {
        if (at[0] + 2 > limit || (der[at[0]] & 0xff) != tag) {
            throw bad(code, file + ": the EC PRIVATE KEY block is not SEC1 DER");
        }
        int p = at[0] + 1;
        int first = der[p++] & 0xff;
        long length;
        if (first < 0x80) {
            length = first;
        } else {
            int n = first & 0x7f;
            if (n == 0 || n > 3 || p + n > limit) {
                throw bad(code, file + ": the EC PRIVATE KEY block is not SEC1 DER");
            }
            length = 0;
            for (int i = 0; i < n; i++) {
                length = (length << 8) | (der[p++] & 0xff);
            }
        }
        if (length > limit - p) {
            throw bad(code, file + ": the EC PRIVATE KEY block is not SEC1 DER");
        }
        at[0] = p;
        return (int) (p + length);
    }

    private static void skip(Path file, byte[] der, int[] at, int tag, int limit, ErrorCode code) {
        at[0] = enter(file, der, at, tag, limit, code);
    }

    private static byte[] tlv(int tag, byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = value.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n & 0xff);
        }
        out.writeBytes(value);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] decode(Path file, String label, String base64) {
        try {
            return Base64.getMimeDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw bad(file + ": the " + label + " block is not valid base64");
        }
    }

    private static String readText(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw bad(file + ": cannot read: " + IoReason.of(e));
        }
    }

    private static EnclaveException bad(String problem) {
        return bad(ImageErrors.BAD_KEY, problem);
    }

    private static EnclaveException bad(ErrorCode code, String problem) {
        return new EnclaveException(code, problem);
    }

    /** One PEM block: its label ("PRIVATE KEY", "CERTIFICATE", ...) and its decoded DER. */
    public record Block(String label, byte[] der) {
    }

    /** Every PEM block in {@code file}, in file order; unreadable files and bad base64 fail with {@code code}. */
    public static List<Block> readBlocks(Path file, ErrorCode code) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw bad(code, file + ": cannot read: " + (e instanceof IOException io ? IoReason.of(io) : e.getMessage()));
        }
        List<Block> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            try {
                blocks.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                throw bad(code, file + ": the " + m.group(1) + " block is not valid base64");
            }
        }
        return blocks;
    }
}
