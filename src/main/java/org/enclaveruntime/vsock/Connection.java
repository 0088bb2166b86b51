package org.enclaveruntime.vsock;

/**
 * One vsock stream connection, or a bridge client that has not yet said which port it wants. Mutable state
 * owned by the event thread alone. Counters that the protocol lets wrap (rx/fwd/tx counts) are ints and are
 * only ever subtracted.
 */
final class Connection {
    /** Where the connection stands; see docs/vsock.md for the whole life of each kind. */
    enum State {
        /** A bridge client that has not sent its CONNECT line yet (no vsock connection exists). */
        AWAIT_LINE,
        /** A bridge client's REQUEST is queued or sent; waiting for the guest's RESPONSE. */
        AWAIT_RESPONSE,
        /** The guest's REQUEST for host port P: our connect to {@code <socket>_<P>} is in progress. */
        HOST_CONNECTING,
        ESTABLISHED,
        /** The guest shut down both ways; bytes for the host are still being written out before we answer. */
        DRAINING,
        /** We sent SHUTDOWN(both); waiting for the guest's SHUTDOWN or RST (2 s). */
        CLOSING
    }

    /** Control packets waiting for an rx buffer, sent in this order of bits. */
    static final int SEND_REQUEST = 2;
    static final int SEND_RESPONSE = 4;
    static final int SEND_HANDSHAKE_REPLY = 8;
    static final int SEND_SHUTDOWN = 16;
    static final int SEND_CREDIT_UPDATE = 32;

    final int slot;
    final int generation;
    /** The host socket, -1 for the ready handshake (port 9000) and once it is closed. */
    int fd;
    long hostPort;
    long guestPort;
    boolean handshake;
    State state;
    /** System.nanoTime() by which the current state must have ended; 0 for none. */
    long deadline;

    /** Bytes the guest sent on this connection, and those of them written to the host socket (or dropped). */
    int rxCnt;
    int fwdCnt;
    /** The fwd_cnt the guest was last told. */
    int fwdCntTold;
    HostBuffer buffer;

    /** Bytes sent to the guest, and the guest's buffer and consumption as its last packet stated. */
    int txCnt;
    long peerBufAlloc;
    int peerFwdCnt;
    /** SHUTDOWN flags the guest sent, and those we sent. */
    int peerShutdown;
    int ownShutdown;
    /** The SHUTDOWN flags to send with SEND_SHUTDOWN. */
    int shutdownToSend;
    int pending;
    /** Forget the connection once its pending packets went out. */
    boolean forgetAfterSend;

    /** Edge-triggered epoll latches: set by an event, cleared when the socket said EAGAIN. */
    boolean readable;
    boolean writable;
    boolean hostEof;
    boolean hostHup;
    /** The client shut down its sending side (or all of it). */
    boolean hostRdHup;
    /** shutdown(SHUT_WR) done on the host socket. */
    boolean hostWriteShut;

    /** In the queue of connections that have something for the guest. */
    boolean queued;
    Connection nextQueued;

    Connection(int slot, int generation, int fd) {
        this.slot = slot;
        this.generation = generation;
        this.fd = fd;
    }

    long token() {
        return ((long) generation << 32) | slot;
    }

    static long key(long hostPort, long guestPort) {
        return (hostPort << 32) | guestPort;
    }

    long key() {
        return key(hostPort, guestPort);
    }

    /** Bytes the guest may still receive: its buffer minus what is in flight to it. */
    long peerCredit() {
        return peerBufAlloc - (txCnt - peerFwdCnt & 0xffffffffL);
    }

    /** Bytes of ours the guest has in flight: what we received minus what we forwarded. */
    int unforwarded() {
        return rxCnt - fwdCnt;
    }

    /** True while the host socket may still have bytes for the guest and the guest may take them. */
    boolean wantsToSend() {
        return state == State.ESTABLISHED && fd >= 0 && readable && !hostEof
                && (peerShutdown & VsockHeader.SHUTDOWN_RCV) == 0 && peerCredit() > 0;
    }

    boolean hasWorkForGuest() {
        return pending != 0 || wantsToSend();
    }

    @Override
    public String toString() {
        return "vsock connection host port " + hostPort + " / enclave port " + guestPort + " (" + state + ")";
    }
}
