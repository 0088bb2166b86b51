package org.enclaveruntime.devices.virtio;

import java.util.ArrayList;
import java.util.List;

/** A virtio device that only records what the transport tells it; three queues like vsock. */
final class RecordingDevice implements VirtioDevice {
    static final long FEATURES = 1; // VIRTIO_VSOCK_F_STREAM
    final List<String> calls = new ArrayList<>();
    Virtqueue[] activated;
    long activatedFeatures;
    VirtioMmio transport;

    @Override
    public int deviceId() {
        return 19;
    }

    @Override
    public long features() {
        return FEATURES;
    }

    @Override
    public int queueCount() {
        return 3;
    }

    @Override
    public int maxQueueSize(int queue) {
        return 256;
    }

    @Override
    public long readConfig(int offset, int size) {
        long cid = 0x1122_3344_5566_7788L;
        return offset < 8 ? (cid >>> (8 * offset)) & ((1L << (8 * size)) - 1) : 0;
    }

    @Override
    public synchronized void activate(Virtqueue[] queues, long features) {
        calls.add("activate");
        activated = queues;
        activatedFeatures = features;
    }

    @Override
    public synchronized void reset() {
        calls.add("reset");
        activated = null;
    }

    @Override
    public synchronized void queueNotified(int queue) {
        calls.add("notify " + queue);
    }

    @Override
    public void attach(VirtioMmio transport) {
        this.transport = transport;
    }

    synchronized List<String> calls() {
        return List.copyOf(calls);
    }
}
