package org.enclaveruntime.cli;

import org.enclaveruntime.image.ImageSigner;
import org.enclaveruntime.image.PemFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;

/** `enclavectl image sign --key KEY --cert CERT IMAGE`: add or replace the signature, in place. */
@Command(name = "sign", mixinStandardHelpOptions = true,
        description = {"Sign an image with an EC P-384 key (ECDSA with SHA-384), in place or into --out FILE. An "
                + "existing signature is replaced. The file is replaced atomically: a failure leaves the old image "
                + "as it was."},
        footer = {"", "Example key and self-signed certificate:",
                "  openssl ecparam -name secp384r1 -genkey -noout -out key.pem",
                "  openssl req -new -x509 -key key.pem -subj /CN=signer -days 365 -out cert.pem"})
final class ImageSignCommand implements Runnable {
    @Option(names = "--key", required = true, paramLabel = "KEY.pem",
            description = "Private key, PEM: PKCS#8 (BEGIN PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY).")
    Path key;

    @Option(names = "--cert", required = true, paramLabel = "CERT.pem",
            description = "The key's X.509 certificate, PEM; further certificates in the file (its issuers) are "
                    + "stored too.")
    Path cert;

    @Parameters(paramLabel = "IMAGE", description = "The image to sign.")
    Path image;

    @Option(names = "--out", paramLabel = "FILE",
            description = "Write the signed image to FILE (replaced atomically) and leave IMAGE as it is "
                    + "(default: sign IMAGE in place).")
    Path out;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        ImageSigner signer = new ImageSigner(PemFiles.readPrivateKey(key), PemFiles.readCertificates(cert));
        ImageResult signed = ImageResult.of(signer.signTo(image, out == null ? image : out));
        output.print(spec.commandLine().getOut(), signed, () -> "signed " + signed.path() + " as " + signed.signer()
                + "\n  pcr8 " + signed.measurements().get("pcr8") + "\n");
    }
}
