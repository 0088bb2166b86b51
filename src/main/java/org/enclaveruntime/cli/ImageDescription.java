package org.enclaveruntime.cli;

import org.enclaveruntime.image.EnclaveImage;
import org.enclaveruntime.image.ImageMetadata;
import org.enclaveruntime.image.ImageSection;
import org.enclaveruntime.image.ImageSignature;

import java.util.List;
import java.util.Map;

/** What `image describe` and `image verify` print about an image, as data (JSON) and as text. */
record ImageDescription(String path, int formatVersion, long size, Defaults defaults, List<Section> sections,
                        Runtime runtime, ImageMetadata metadata, Signer signature, Map<String, String> measurements) {

    record Defaults(int memoryMib, int cpuCount, long requiredMemoryBytes) {
    }

    record Section(String type, long offset, long size, String sha384) {
    }

    record Runtime(String entry, String imageEnd, int loadSegments) {
    }

    /** The signer as stored in the image; whether it is trusted is verify's answer, not this. */
    record Signer(String subject, String issuer, String fingerprintSha384, int chainLength, String notAfter) {
    }

    static ImageDescription of(EnclaveImage image) {
        List<Section> sections = image.sections().stream().map(ImageDescription::section).toList();
        Runtime runtime = new Runtime(hex(image.runtime().entry()), hex(image.runtime().imageEnd()),
                image.runtime().segments().size());
        Signer signer = image.signature().map(ImageDescription::signer).orElse(null);
        Defaults defaults = new Defaults(image.defaultMemoryMib(), image.defaultVcpuCount(),
                image.requiredMemoryBytes(image.defaultVcpuCount()));
        return new ImageDescription(image.origin(), image.formatVersion(), image.size(), defaults, sections, runtime,
                image.metadata(), signer, image.measurements().asHex());
    }

    private static Section section(ImageSection s) {
        return new Section(s.type().name(), s.offset(), s.size(), s.sha384().hex());
    }

    private static Signer signer(ImageSignature s) {
        return new Signer(s.signerSubject(), s.signer().getIssuerX500Principal().getName(), s.signerFingerprint().hex(),
                s.chain().size(), s.signer().getNotAfter().toInstant().toString());
    }

    private static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }

    String text() {
        StringBuilder s = new StringBuilder();
        s.append(String.format("image         %s (%d bytes, format %d)%n", path, size, formatVersion));
        s.append(String.format("name          %s %s (built by %s%s)%n", metadata.name(), metadata.version(),
                metadata.builder(), metadata.buildTime() == null ? "" : " at " + metadata.buildTime()));
        s.append(String.format("defaults      %d MiB, %d vCPU%s (needs at least %d KiB)%n", defaults.memoryMib(),
                defaults.cpuCount(), defaults.cpuCount() == 1 ? "" : "s", (defaults.requiredMemoryBytes() + 1023) / 1024));
        if (runtime != null) {
            s.append(String.format("runtime       entry %s, %d PT_LOAD segment%s, loaded up to %s%n", runtime.entry(),
                    runtime.loadSegments(), runtime.loadSegments() == 1 ? "" : "s", runtime.imageEnd()));
        }
        s.append(signature == null ? "signature     not signed\n"
                : String.format("signature     %s (issuer %s, valid until %s)%n              fingerprint %s%n",
                signature.subject(), signature.issuer(), signature.notAfter(), signature.fingerprintSha384()));
        s.append("sections\n");
        s.append(String.format("  %-10s %10s %10s  %s%n", "TYPE", "OFFSET", "SIZE", "SHA384"));
        for (Section sec : sections) {
            s.append(String.format("  %-10s %10d %10d  %s%n", sec.type(), sec.offset(), sec.size(), sec.sha384()));
        }
        s.append("measurements\n");
        measurements.forEach((pcr, hex) -> s.append("  ").append(pcr).append("  ").append(hex).append('\n'));
        return s.toString();
    }
}
