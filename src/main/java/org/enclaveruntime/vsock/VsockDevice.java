package org.enclaveruntime.vsock;

import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.devices.virtio.VirtioDevice;
import org.enclaveruntime.devices.virtio.VirtioMmio;
import org.enclaveruntime.devices.virtio.Virtqueue;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.memory.GuestMemory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The virtio-vsock device (virtio 1.2 §5.10; docs/guest-abi.md, "virtio-vsock") with its host side, the
 * hybrid-vsock Unix socket bridge (docs/vsock.md). Queues and sockets are served by one thread, "vsock";
 * the {@link VirtioDevice} calls come from vCPU threads and only hand work over to it.
 *
 * <p>Life: construct (creates the listening socket, so a bad path fails the start with its E7xx code),
 * {@link #start()}, and {@link #close()}, after which no guest RAM is touched and the socket file is gone.
 */
public final class VsockDevice implements VirtioDevice, AutoCloseable {
    public static final int DEVICE_ID = 19;
    public static final long VIRTIO_VSOCK_F_STREAM = 1L;
    public static final int QUEUE_SIZE_MAX = 256;
    private static final int QUEUES = 3;

    private final long guestCid;
    private final Path socket;
    private final VsockEventLoop loop;
    private boolean started;
    private boolean closed;

    /**
     * @param memory        guest RAM (the queues the transport hands over point into it)
     * @param guestCid      the enclave's cid (boot_info.cid)
     * @param notifyEventFd the non-blocking eventfd KVM signals on NOTIFY/QueueNotify writes; the caller owns it
     *                      and closes it after {@link #close()}
     * @param waker         wakes vCPUs in WAIT after used buffers were published
     * @param onReady       told once when the ready handshake on port 9000 is done
     * @param log           where guest misbehaviour goes, rate-limited
     */
    public VsockDevice(GuestMemory memory, long guestCid, VsockSettings settings, int notifyEventFd,
                       GuestWaker waker, ReadyListener onReady, GuestLog log) {
        Objects.requireNonNull(memory, "memory");
        this.guestCid = guestCid;
        this.socket = settings.socket();
        try {
            loop = new VsockEventLoop(guestCid, settings, notifyEventFd, waker, onReady, log);
        } catch (IOException e) {
            throw new EnclaveException(VsockErrors.SOCKET, "cannot set up the vsock event loop for " + socket
                    + ": " + e.getMessage());
        }
    }

    /** A bad chain found on the event thread goes to the transport's {@link VirtioMmio#needsReset}. */
    @Override
    public void attach(VirtioMmio transport) {
        loop.onBroken(transport::needsReset);
    }

    /** Starts the event thread "vsock". */
    public synchronized void start() {
        if (closed || started) {
            throw new IllegalStateException(closed ? "vsock device closed" : "vsock device already started");
        }
        started = true;
        loop.start();
    }

    public Path socket() {
        return socket;
    }

    /** NOTIFY eventfd signals and QueueNotify exits seen so far (for tests). */
    public long notifications() {
        return loop.notifications();
    }

    /** The most bytes any connection has held for a host socket that would not take them (for tests). */
    public int maxHostBuffered() {
        return loop.maxBuffered();
    }

    /** Live connections, bridge clients still sending their CONNECT line included. */
    public int connections() {
        return loop.connections();
    }

    @Override
    public int deviceId() {
        return DEVICE_ID;
    }

    @Override
    public long features() {
        return VIRTIO_VSOCK_F_STREAM;
    }

    @Override
    public int queueCount() {
        return QUEUES;
    }

    @Override
    public int maxQueueSize(int queue) {
        return QUEUE_SIZE_MAX;
    }

    /** The configuration space is le64 guest_cid; bytes beyond it read as ones. */
    @Override
    public long readConfig(int offset, int size) {
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            int at = offset + i;
            int b = at >= 0 && at < 8 ? (int) (guestCid >>> (8 * at)) & 0xff : 0xff;
            value = value << 8 | b;
        }
        return value;
    }

    @Override
    public void activate(Virtqueue[] queues, long features) {
        loop.activate(queues);
    }

    @Override
    public void reset() {
        loop.reset();
    }

    @Override
    public void queueNotified(int queue) {
        loop.notified();
    }

    /** Stops the event thread: every host socket closed, the socket file removed, the thread joined. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!started) {
            loop.start(); // its end closes the listener and removes the socket file
        }
        loop.stop();
    }
}
