package org.enclaveruntime.cli;

import org.enclaveruntime.image.EnclaveImage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;

/** `enclavectl image describe IMAGE`: sections, metadata, signer and measurements of a checked image. */
@Command(name = "describe", mixinStandardHelpOptions = true,
        description = {"Show an image's sections, metadata, signer and measurements (pcr0, pcr1, pcr2, pcr8).",
                "The image is fully checked first (structure, CRC, hashes): a damaged image is refused, "
                        + "never described."})
final class ImageDescribeCommand implements Runnable {
    @Parameters(paramLabel = "IMAGE", description = "The image file.")
    Path image;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        ImageDescription d = ImageDescription.of(EnclaveImage.open(image));
        output.print(spec.commandLine().getOut(), d, d::text);
    }
}
