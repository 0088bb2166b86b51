package org.enclaveruntime.cli;

import org.enclaveruntime.image.EnclaveImage;
import org.enclaveruntime.image.ImageSignature;

import java.util.Map;

/**
 * What `image build` and `image sign` report about the file they wrote; in JSON {path, size, signer,
 * measurements}, the field names `image describe` and `image verify` use for the same things.
 */
record ImageResult(String path, long size, String signer, Map<String, String> measurements) {
    static ImageResult of(EnclaveImage image) {
        return new ImageResult(image.origin(), image.size(),
                image.signature().map(ImageSignature::signerSubject).orElse(null), image.measurements().asHex());
    }

    /** The measurement lines under a command's one-line summary: "  pcr0 <hex>". */
    String measurementLines() {
        StringBuilder s = new StringBuilder();
        measurements.forEach((pcr, hex) -> s.append("  ").append(pcr).append(' ').append(hex).append('\n'));
        return s.toString();
    }
}
