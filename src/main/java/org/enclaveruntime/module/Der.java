package org.enclaveruntime.module;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * The little DER that key files need: walking a SEQUENCE's elements and wrapping bytes into a tag. Malformed
 * input is an IllegalArgumentException, which the key reader turns into its error.
 */
final class Der {
    private final byte[] der;
    private int at;
    private final int end;

    private Der(byte[] der, int from, int end) {
        this.der = der;
        this.at = from;
        this.end = end;
    }

    /** Reads the contents of the one element {@code der} must be, which must have {@code tag}. */
    static Der enter(byte[] der, int tag) {
        Der outer = new Der(der, 0, der.length);
        Der inner = outer.next(tag);
        if (outer.hasMore()) {
            throw new IllegalArgumentException("bytes after the DER element");
        }
        return inner;
    }

    boolean hasMore() {
        return at < end;
    }

    int peekTag() {
        if (at >= end) {
            throw new IllegalArgumentException("DER ends early");
        }
        return der[at] & 0xff;
    }

    /** The next element, which must have {@code tag}; returns a reader over its contents. */
    Der next(int tag) {
        if (peekTag() != tag) {
            throw new IllegalArgumentException("DER tag 0x" + Integer.toHexString(peekTag()) + ", expected 0x"
                    + Integer.toHexString(tag));
        }
        int p = at + 1;
        if (p >= end) {
            throw new IllegalArgumentException("DER ends early");
        }
        int first = der[p++] & 0xff;
        int length;
        if (first < 0x80) {
            length = first;
        } else {
            int n = first & 0x7f;
            if (n == 0 || n > 3 || n > end - p) {
                throw new IllegalArgumentException("DER length");
            }
            length = 0;
            for (int i = 0; i < n; i++) {
                length = (length << 8) | (der[p++] & 0xff);
            }
        }
        if (length > end - p) {
            throw new IllegalArgumentException("DER element longer than its container");
        }
        at = p + length;
        return new Der(der, p, p + length);
    }

    byte[] bytes() {
        return Arrays.copyOfRange(der, at, end);
    }

    static byte[] tlv(int tag, byte[]... parts) {
        ByteArrayOutputStream value = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            value.writeBytes(p);
        }
        int n = value.size();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            throw new IllegalArgumentException("DER value too long: " + n);
        }
        out.writeBytes(value.toByteArray());
        return out.toByteArray();
    }
}
