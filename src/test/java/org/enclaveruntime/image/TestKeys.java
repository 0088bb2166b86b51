package org.enclaveruntime.image;

import org.enclaveruntime.testing.OpenSsl;

import java.io.IOException;
import java.nio.file.Path;

/** Keys and certificates made with the openssl command line, as a user would make them. */
final class TestKeys {
    /** Only bounds a hang (key generation takes seconds). */
    private static final java.time.Duration BOUND = java.time.Duration.ofSeconds(60);

    final Path caKey;
    final Path caCert;
    final Path leafKey;
    final Path leafCert;
    final Path otherCaCert;
    final Path sec1Key;
    final Path sec1SelfCert;
    final Path p256Key;
    final Path p256Cert;

    TestKeys(Path dir) throws IOException, InterruptedException {
        caKey = dir.resolve("ca.key");
        caCert = dir.resolve("ca.pem");
        leafKey = dir.resolve("leaf.key");
        leafCert = dir.resolve("leaf.pem");
        otherCaCert = dir.resolve("other-ca.pem");
        sec1Key = dir.resolve("sec1.key");
        sec1SelfCert = dir.resolve("sec1-self.pem");
        p256Key = dir.resolve("p256.key");
        p256Cert = dir.resolve("p256.pem");
        Path otherKey = dir.resolve("other.key");
        Path csr = dir.resolve("leaf.csr");
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", caKey);
        openssl("req", "-new", "-x509", "-key", caKey, "-subj", "/CN=test-ca", "-days", "30", "-out", caCert);
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", leafKey);
        openssl("req", "-new", "-key", leafKey, "-subj", "/CN=test-signer", "-out", csr);
        openssl("x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-days", "30", "-out", leafCert);
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", otherKey);
        openssl("req", "-new", "-x509", "-key", otherKey, "-subj", "/CN=other-ca", "-days", "30", "-out", otherCaCert);
        // SEC1 with its "EC PARAMETERS" block in front, as `openssl ecparam -genkey` writes without -noout.
        openssl("ecparam", "-name", "secp384r1", "-genkey", "-out", sec1Key);
        openssl("req", "-new", "-x509", "-key", sec1Key, "-subj", "/CN=sec1-self", "-days", "30", "-out", sec1SelfCert);
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", p256Key);
        openssl("req", "-new", "-x509", "-key", p256Key, "-subj", "/CN=p256", "-days", "30", "-out", p256Cert);
    }

    static void openssl(Object... args) throws IOException, InterruptedException {
        OpenSsl.run(BOUND, args);
    }
}
