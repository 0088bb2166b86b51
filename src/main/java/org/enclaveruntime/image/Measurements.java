package org.enclaveruntime.image;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The image's measurement registers (docs/image-format.md, "Measurements"). Each starts at 48 zero bytes
 * and is extended as pcr = SHA384(pcr ‖ SHA384(input)), in section-table order:
 * <ul>
 *   <li>pcr0: every boot section (RUNTIME, KERNEL, CMDLINE, INITRD, those present);</li>
 *   <li>pcr1: RUNTIME, KERNEL, CMDLINE (the code that runs first and how it is told to run);</li>
 *   <li>pcr2: INITRD;</li>
 *   <li>pcr8: the DER of the signing (leaf) certificate; stays zero for an unsigned image.</li>
 * </ul>
 * METADATA is not measured: renaming or re-versioning a build must not change what attestation pins.
 */
public record Measurements(Sha384 pcr0, Sha384 pcr1, Sha384 pcr2, Sha384 pcr8) {

    /**
     * @param sectionHashes the SHA-384 of each section, in table order (every type at most once)
     * @param signerCertificateHash SHA-384 of the signing certificate's DER, if signed
     */
    static Measurements compute(Map<SectionType, Sha384> sectionHashes, Optional<Sha384> signerCertificateHash) {
        Sha384 pcr0 = Sha384.zero();
        Sha384 pcr1 = Sha384.zero();
        Sha384 pcr2 = Sha384.zero();
        for (SectionType type : SectionType.values()) {
            Sha384 h = sectionHashes.get(type);
            if (h == null || !type.boots()) {
                continue;
            }
            pcr0 = pcr0.extend(h);
            if (type == SectionType.INITRD) {
                pcr2 = pcr2.extend(h);
            } else {
                pcr1 = pcr1.extend(h);
            }
        }
        Sha384 pcr8 = signerCertificateHash.map(Sha384.zero()::extend).orElse(Sha384.zero());
        return new Measurements(pcr0, pcr1, pcr2, pcr8);
    }

    /** {"pcr0": hex, ...}: the shape `describe --output json` and `status` print. */
    public Map<String, String> asHex() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("pcr0", pcr0.hex());
        m.put("pcr1", pcr1.hex());
        m.put("pcr2", pcr2.hex());
        m.put("pcr8", pcr8.hex());
        return m;
    }
}
