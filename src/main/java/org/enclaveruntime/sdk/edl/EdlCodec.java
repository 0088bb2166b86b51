package org.enclaveruntime.sdk.edl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The Java side of docs/sdk-edl.md "Marshalling", used by generated proxies: items at 8-aligned offsets,
 * little-endian; a buffer is a u64 length (all ones for NULL) followed by its bytes when they travel.
 * A malformed buffer from the other side is an {@link IllegalArgumentException} naming what is wrong.
 */
public final class EdlCodec {
    public static final long NULL_LEN = -1L;
    private static final Charset UTF_32LE = Charset.forName("UTF-32LE");

    private EdlCodec() {
    }

    static int align(long at) {
        long a = (at + 7) & ~7L;
        if (a > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("marshalled data over 2 GiB");
        }
        return (int) a;
    }

    /** Adds up an out capacity the way {@link Writer} lays items out. */
    public static final class Sizer {
        private long size;

        public Sizer add(long bytes) {
            size = align(size) + bytes;
            align(size);
            return this;
        }

        public int size() {
            return (int) size;
        }
    }

    public static final class Writer {
        private ByteBuffer buf = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);

        private ByteBuffer slot(int n) {
            int at = align(buf.position());
            if (at + (long) n > buf.capacity()) {
                buf = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8, Math.max(buf.capacity() * 2L, at + (long) n + 64)))
                        .order(ByteOrder.LITTLE_ENDIAN).put(buf.flip());
            }
            buf.position(at);
            return buf;
        }

        public Writer i8(byte v) { slot(1).put(v); return this; }
        public Writer i16(short v) { slot(2).putShort(v); return this; }
        public Writer i32(int v) { slot(4).putInt(v); return this; }
        public Writer i64(long v) { slot(8).putLong(v); return this; }
        public Writer f32(float v) { slot(4).putFloat(v); return this; }
        public Writer f64(double v) { slot(8).putDouble(v); return this; }

        /** An [in] buffer: its length, then its bytes; null for NULL. */
        public Writer buffer(byte[] bytes) {
            if (bytes == null) {
                return i64(NULL_LEN);
            }
            i64(bytes.length);
            slot(bytes.length).put(bytes);
            return this;
        }

        /** An [out]-only buffer: its length only (or NULL). */
        public Writer outLength(long lengthOrNull) {
            i64(lengthOrNull);
            slot(0);
            return this;
        }

        /** Raw bytes at the next 8-aligned offset (a return value or [out] bytes of an OCALL answer). */
        public Writer raw(byte[] bytes) {
            slot(bytes.length).put(bytes);
            return this;
        }

        public byte[] toArray() {
            return Arrays.copyOf(buf.array(), buf.position());
        }
    }

    public static final class Reader {
        private final ByteBuffer buf;

        public Reader(byte[] bytes) {
            buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        private ByteBuffer slot(long n) {
            int at = align(buf.position());
            if (at > buf.limit() || n > buf.limit() - at) {
                throw new IllegalArgumentException("marshalled data ends at " + buf.limit() + " bytes; " + n
                        + " more expected at offset " + at);
            }
            buf.position(at);
            return buf;
        }

        public byte i8() { return slot(1).get(); }
        public short i16() { return slot(2).getShort(); }
        public int i32() { return slot(4).getInt(); }
        public long i64() { return slot(8).getLong(); }
        public float f32() { return slot(4).getFloat(); }
        public double f64() { return slot(8).getDouble(); }

        /** A buffer's length prefix: {@link #NULL_LEN} for NULL. */
        public long length() {
            return i64();
        }

        public byte[] bytes(long n) {
            if (n == NULL_LEN) {
                return null;
            }
            byte[] b = new byte[(int) n];
            slot(n).get(b);
            return b;
        }

        public void end() {
            if (align(buf.position()) < buf.limit()) {
                throw new IllegalArgumentException(buf.limit() - buf.position() + " bytes left over");
            }
        }
    }

    // ---- arrays and strings as bytes, little-endian -------------------------------------------------

    public static byte[] bytes(short[] a) {
        if (a == null) return null;
        ByteBuffer b = ByteBuffer.allocate(a.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        b.asShortBuffer().put(a);
        return b.array();
    }

    public static byte[] bytes(int[] a) {
        if (a == null) return null;
        ByteBuffer b = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(a);
        return b.array();
    }

    public static byte[] bytes(long[] a) {
        if (a == null) return null;
        ByteBuffer b = ByteBuffer.allocate(a.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(a);
        return b.array();
    }

    public static byte[] bytes(float[] a) {
        if (a == null) return null;
        ByteBuffer b = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a);
        return b.array();
    }

    public static byte[] bytes(double[] a) {
        if (a == null) return null;
        ByteBuffer b = ByteBuffer.allocate(a.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(a);
        return b.array();
    }

    public static byte[] bytes(byte[] a) {
        return a;
    }

    /** Copies little-endian {@code src} into {@code dst} (same byte length). */
    public static void fill(byte[] dst, byte[] src) {
        System.arraycopy(src, 0, dst, 0, dst.length);
    }

    public static void fill(short[] dst, byte[] src) {
        ByteBuffer.wrap(src).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(dst);
    }

    public static void fill(int[] dst, byte[] src) {
        ByteBuffer.wrap(src).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(dst);
    }

    public static void fill(long[] dst, byte[] src) {
        ByteBuffer.wrap(src).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(dst);
    }

    public static void fill(float[] dst, byte[] src) {
        ByteBuffer.wrap(src).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dst);
    }

    public static void fill(double[] dst, byte[] src) {
        ByteBuffer.wrap(src).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(dst);
    }

    /** A buffer of {@code len} bytes as an array of {@code elementSize}-byte elements, or a refusal. */
    public static int elements(long len, int elementSize) {
        if (len < 0 || len % elementSize != 0 || len / elementSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("buffer of " + len + " bytes is not a whole number of "
                    + elementSize + "-byte elements");
        }
        return (int) (len / elementSize);
    }

    /** [string]: UTF-8 with its NUL, as the C side sends strlen + 1 bytes. */
    public static byte[] cString(CharSequence s) {
        if (s == null) return null;
        byte[] utf8 = s.toString().getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(utf8, utf8.length + 1);
    }

    /** [wstring]: UTF-32LE (wchar_t is 4 bytes on Linux) with its NUL. */
    public static byte[] wString(CharSequence s) {
        if (s == null) return null;
        byte[] w = s.toString().getBytes(UTF_32LE);
        return Arrays.copyOf(w, w.length + 4);
    }

    public static String fromCString(byte[] b) {
        if (b == null) return null;
        if (b.length == 0 || b[b.length - 1] != 0) {
            throw new IllegalArgumentException("a [string] must end in NUL");
        }
        int n = 0;
        while (b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    public static String fromWString(byte[] b) {
        if (b == null) return null;
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (b.length == 0 || b.length % 4 != 0 || bb.getInt(b.length - 4) != 0) {
            throw new IllegalArgumentException("a [wstring] must be whole wchar_t ending in NUL");
        }
        int n = 0;
        while (bb.getInt(n * 4) != 0) n++;
        return new String(b, 0, n * 4, UTF_32LE);
    }
}
