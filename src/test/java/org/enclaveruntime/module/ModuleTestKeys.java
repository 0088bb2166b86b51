package org.enclaveruntime.module;

import org.enclaveruntime.testing.OpenSsl;

import java.io.IOException;
import java.nio.file.Path;

/** Module signing keys made with the openssl command line at test time, as a user (or an SGX project) makes them. */
final class ModuleTestKeys {
    /** Only bounds a hang (key generation takes seconds). */
    private static final java.time.Duration BOUND = java.time.Duration.ofSeconds(120);

    /** RSA-3072, public exponent 3, PKCS#8 ("BEGIN PRIVATE KEY"). */
    final Path rsa;
    /** RSA-3072, exponent 3, PKCS#1 ("BEGIN RSA PRIVATE KEY"), as `openssl genrsa -3` wrote it for SGX projects. */
    final Path rsaPkcs1;
    final Path ec;
    /** EC P-384 as SEC1 ("BEGIN EC PRIVATE KEY") with the "EC PARAMETERS" block in front. */
    final Path ecSec1;
    final Path otherEc;
    final Path rsa2048;
    final Path p256;
    final Path ecCert;

    ModuleTestKeys(Path dir) throws IOException, InterruptedException {
        rsa = dir.resolve("rsa.pem");
        rsaPkcs1 = dir.resolve("rsa-pkcs1.pem");
        ec = dir.resolve("ec.pem");
        ecSec1 = dir.resolve("ec-sec1.pem");
        otherEc = dir.resolve("other-ec.pem");
        rsa2048 = dir.resolve("rsa2048.pem");
        p256 = dir.resolve("p256.pem");
        ecCert = dir.resolve("ec-cert.pem");
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072", "-pkeyopt", "rsa_keygen_pubexp:3",
                "-out", rsa);
        openssl("genrsa", "-traditional", "-3", "-out", rsaPkcs1, "3072");
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", ec);
        openssl("ecparam", "-name", "secp384r1", "-genkey", "-out", ecSec1);
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", otherEc);
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa2048);
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", p256);
        openssl("req", "-new", "-x509", "-key", ec, "-subj", "/CN=module-signer", "-days", "30", "-out", ecCert);
    }

    /** `openssl pkey -pubout` of {@code key}: PEM next to it, and the DER SubjectPublicKeyInfo MRSIGNER hashes. */
    static Path publicPem(Path key) throws IOException, InterruptedException {
        Path pub = key.resolveSibling(key.getFileName() + ".pub");
        openssl("pkey", "-in", key, "-pubout", "-out", pub);
        return pub;
    }

    static Path publicDer(Path key) throws IOException, InterruptedException {
        Path pub = key.resolveSibling(key.getFileName() + ".pub.der");
        openssl("pkey", "-in", key, "-pubout", "-outform", "DER", "-out", pub);
        return pub;
    }

    static void openssl(Object... args) throws IOException, InterruptedException {
        OpenSsl.run(BOUND, args);
    }
}
