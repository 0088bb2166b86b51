package org.enclaveruntime.image;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * The measurement rule of docs/image-format.md, implemented again in the test from the raw bytes, so that
 * the reader's registers are checked against the definition and not against themselves.
 */
final class ReferenceMeasurements {
    private ReferenceMeasurements() {
    }

    /** [pcr0, pcr1, pcr2, pcr8] as lower-case hex. */
    static List<String> of(byte[] image) throws Exception {
        RawImage raw = new RawImage(image);
        byte[] pcr0 = new byte[48];
        byte[] pcr1 = new byte[48];
        byte[] pcr2 = new byte[48];
        byte[] pcr8 = new byte[48];
        for (int i = 0; i < raw.sectionCount(); i++) {
            int type = raw.type(i);
            byte[] digest = sha384(raw.content(i));
            if (type >= 1 && type <= 4) { // RUNTIME, KERNEL, CMDLINE, INITRD
                pcr0 = extend(pcr0, digest);
                if (type == 4) {
                    pcr2 = extend(pcr2, digest);
                } else {
                    pcr1 = extend(pcr1, digest);
                }
            }
            if (type == 6) { // SIGNATURE: u32 scheme, u32 count, u32 sig length, u32 0, then u32 len + leaf DER
                byte[] sig = raw.content(i);
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(sig).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                int leafLength = b.getInt(16);
                byte[] leaf = java.util.Arrays.copyOfRange(sig, 20, 20 + leafLength);
                pcr8 = extend(pcr8, sha384(leaf));
            }
        }
        HexFormat hex = HexFormat.of();
        return List.of(hex.formatHex(pcr0), hex.formatHex(pcr1), hex.formatHex(pcr2), hex.formatHex(pcr8));
    }

    static List<String> of(Measurements m) {
        return List.of(m.pcr0().hex(), m.pcr1().hex(), m.pcr2().hex(), m.pcr8().hex());
    }

    static byte[] sha384(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-384").digest(data);
    }

    static byte[] extend(byte[] pcr, byte[] digest) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-384");
        md.update(pcr);
        md.update(digest);
        return md.digest();
    }
}
