package org.enclaveruntime.vsock;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * struct virtio_vsock_hdr (docs/guest-abi.md, "Packets"): 44 little-endian bytes. A flyweight over one reusable
 * heap buffer, so reading or building a packet allocates nothing; the event thread owns one for what the guest
 * sends and one for what it answers.
 */
final class VsockHeader {
    static final int SIZE = 44;
    static final long HOST_CID = 2;
    static final int TYPE_STREAM = 1;

    static final int OP_REQUEST = 1;
    static final int OP_RESPONSE = 2;
    static final int OP_RST = 3;
    static final int OP_SHUTDOWN = 4;
    static final int OP_RW = 5;
    static final int OP_CREDIT_UPDATE = 6;
    static final int OP_CREDIT_REQUEST = 7;

    /** SHUTDOWN flags: the sender will receive no more, will send no more. */
    static final int SHUTDOWN_RCV = 1;
    static final int SHUTDOWN_SEND = 2;
    static final int SHUTDOWN_BOTH = SHUTDOWN_RCV | SHUTDOWN_SEND;

    private static final int SRC_CID = 0;
    private static final int DST_CID = 8;
    private static final int SRC_PORT = 16;
    private static final int DST_PORT = 20;
    private static final int LEN = 24;
    private static final int TYPE = 28;
    private static final int OP = 30;
    private static final int FLAGS = 32;
    private static final int BUF_ALLOC = 36;
    private static final int FWD_CNT = 40;

    private final ByteBuffer bytes = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);

    /** The buffer, positioned at 0 with all 44 bytes remaining: to be filled from, or copied into, a chain. */
    ByteBuffer buffer() {
        return bytes.clear();
    }

    long srcCid() {
        return bytes.getLong(SRC_CID);
    }

    long dstCid() {
        return bytes.getLong(DST_CID);
    }

    /** Ports are u32; kept in a long so comparisons and keys need no unsigned care. */
    long srcPort() {
        return bytes.getInt(SRC_PORT) & 0xffffffffL;
    }

    long dstPort() {
        return bytes.getInt(DST_PORT) & 0xffffffffL;
    }

    long len() {
        return bytes.getInt(LEN) & 0xffffffffL;
    }

    int type() {
        return bytes.getShort(TYPE) & 0xffff;
    }

    int op() {
        return bytes.getShort(OP) & 0xffff;
    }

    int flags() {
        return bytes.getInt(FLAGS);
    }

    long bufAlloc() {
        return bytes.getInt(BUF_ALLOC) & 0xffffffffL;
    }

    /** Wraps at 2^32; callers subtract in int arithmetic. */
    int fwdCnt() {
        return bytes.getInt(FWD_CNT);
    }

    /** Fills every field of a host-to-guest packet. */
    void set(long guestCid, long hostPort, long guestPort, int len, int op, int flags, int bufAlloc, int fwdCnt) {
        bytes.putLong(SRC_CID, HOST_CID);
        bytes.putLong(DST_CID, guestCid);
        bytes.putInt(SRC_PORT, (int) hostPort);
        bytes.putInt(DST_PORT, (int) guestPort);
        bytes.putInt(LEN, len);
        bytes.putShort(TYPE, (short) TYPE_STREAM);
        bytes.putShort(OP, (short) op);
        bytes.putInt(FLAGS, flags);
        bytes.putInt(BUF_ALLOC, bufAlloc);
        bytes.putInt(FWD_CNT, fwdCnt);
    }

    static String opName(int op) {
        return switch (op) {
            case OP_REQUEST -> "REQUEST";
            case OP_RESPONSE -> "RESPONSE";
            case OP_RST -> "RST";
            case OP_SHUTDOWN -> "SHUTDOWN";
            case OP_RW -> "RW";
            case OP_CREDIT_UPDATE -> "CREDIT_UPDATE";
            case OP_CREDIT_REQUEST -> "CREDIT_REQUEST";
            default -> "op " + op;
        };
    }
}
