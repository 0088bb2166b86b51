package org.enclaveruntime.sdk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 16-byte header of every message, little-endian: u32 magic "ENCM", u16 type, u16 reserved (0), u32 payload
 * length, u32 arg (docs/module-runtime.md section 3). {@link #decode} checks everything a header from the
 * enclave can get wrong before a byte of its payload is read or a buffer allocated for it.
 */
record FrameHeader(MessageType type, int length, int arg) {
    static final int SIZE = 16;
    /** "ENCM" in memory, read as a little-endian u32. */
    static final int MAGIC = 0x4D434E45;

    FrameHeader {
        if (length < 0 || length > type.payloadLimit()) {
            throw new IllegalArgumentException(type + " payload of " + Integer.toUnsignedString(length)
                    + " bytes, over its limit of " + type.payloadLimit());
        }
    }

    /** Writes the header at {@code out}'s position (which advances). */
    void encode(ByteBuffer out) {
        ByteOrder order = out.order();
        out.order(ByteOrder.LITTLE_ENDIAN)
                .putInt(MAGIC).putShort((short) type.code).putShort((short) 0).putInt(length).putInt(arg)
                .order(order);
    }

    /**
     * The header in {@code in}'s next 16 bytes, sent by the enclave.
     *
     * @throws WireException PROTOCOL for a bad magic, a reserved field that is not 0, a type the host does not
     *                       accept, or a length over the type's limit
     */
    static FrameHeader decode(ByteBuffer in) throws WireException {
        ByteBuffer b = in.slice(in.position(), SIZE).order(ByteOrder.LITTLE_ENDIAN);
        in.position(in.position() + SIZE);
        int magic = b.getInt(0);
        if (magic != MAGIC) {
            throw WireException.protocol(String.format("a message with magic 0x%08x instead of 0x%08x (\"ENCM\")",
                    magic, MAGIC));
        }
        int code = Short.toUnsignedInt(b.getShort(4));
        int reserved = Short.toUnsignedInt(b.getShort(6));
        long length = Integer.toUnsignedLong(b.getInt(8));
        int arg = b.getInt(12);
        MessageType type = MessageType.of(code).orElseThrow(() -> WireException.protocol(
                "a message of unknown type " + code));
        if (!type.fromEnclave) {
            throw WireException.protocol("a " + type + " message (type " + code + "), which only the host sends");
        }
        if (reserved != 0) {
            throw WireException.protocol("a " + type + " message whose reserved field is " + reserved + ", not 0");
        }
        if (length > type.payloadLimit()) {
            throw WireException.protocol("a " + type + " message with a payload of " + length + " bytes, over the "
                    + "limit of " + type.payloadLimit());
        }
        return new FrameHeader(type, (int) length, arg);
    }

    @Override
    public String toString() {
        return type + "(arg " + Integer.toUnsignedString(arg) + ", " + length + " bytes)";
    }
}
