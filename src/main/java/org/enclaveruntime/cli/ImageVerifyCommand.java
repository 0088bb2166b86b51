package org.enclaveruntime.cli;

import org.enclaveruntime.image.EnclaveImage;
import org.enclaveruntime.image.PemFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Map;

/** `enclavectl image verify IMAGE [--cert CA.pem]`: everything `start` checks before booting. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check an image: structure, CRC, section hashes, runtime ELF and, if signed, the signature.",
                "With --cert the image must be signed by that certificate or one it issued. Without --cert an "
                        + "unsigned image passes (exit 0) and is reported as not signed."})
final class ImageVerifyCommand implements Runnable {
    @Parameters(paramLabel = "IMAGE", description = "The image file.")
    Path image;

    @Option(names = "--cert", paramLabel = "CA.pem",
            description = "Trusted certificate (PEM): the signer itself or a CA that issued it.")
    Path trusted;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    record Verdict(String path, boolean valid, boolean signed, String signer, String trustedBy,
                   Map<String, String> measurements) {
    }

    @Override
    public void run() {
        X509Certificate ca = trusted == null ? null : PemFiles.readCertificate(trusted);
        EnclaveImage img = EnclaveImage.open(image);
        if (ca != null) {
            img.verifySignature(ca);
        }
        String signer = img.signature().map(s -> s.signerSubject()).orElse(null);
        Verdict v = new Verdict(img.origin(), true, signer != null, signer,
                ca == null ? null : ca.getSubjectX500Principal().getName(), img.measurements().asHex());
        output.print(spec.commandLine().getOut(), v, () -> img.origin() + ": OK (structure, CRC, section hashes"
                + (signer == null ? ")\n  not signed" : ", signature)\n  signed by " + signer
                + (ca == null ? " (signature valid; pass --cert to check who may sign)" : ", trusted via " + v.trustedBy()))
                + "\n  pcr0 " + v.measurements().get("pcr0") + "\n");
    }
}
