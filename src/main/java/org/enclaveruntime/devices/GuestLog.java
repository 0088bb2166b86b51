package org.enclaveruntime.devices;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The one way a guest's doings reach the log, one per VM. The guest decides how often it writes a port, so
 * every line it can cause passes one token bucket: {@value #BURST} lines at once, then one per
 * {@link #REFILL_NANOS} ns. A vCPU thread only copies primitive values into a preallocated ring; the line is
 * formatted and written on this log's own thread, so an exit neither allocates nor waits for the disk. Lines
 * the bucket refuses are counted, and the next line that passes (or {@link #close}) first says
 * "N more guest messages suppressed".
 */
public final class GuestLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GuestLog.class);
    /** Lines let through at once after a quiet spell; also the ring's size. */
    static final int BURST = 20;
    /** One more line every 250 ms while the guest keeps causing them: 4 lines a second, ~1 KiB/s of log. */
    static final long REFILL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final long CLOSE_WAIT_MS = 2000;

    /** What a guest can make the VMM say. The level decides whether recording it costs a token at all. */
    private enum Kind {
        UNKNOWN_STATUS, REPORT, NOTIFY, UNCLAIMED_READ, UNCLAIMED_WRITE, PANIC, CONSOLE_FAILED, DEVICE_ERROR,
        DEVICE_ACCESS_READ, DEVICE_ACCESS_WRITE, VSOCK, MODMEM;

        boolean enabled() {
            return switch (this) {
                case REPORT, NOTIFY -> LOG.isDebugEnabled();
                case PANIC -> LOG.isErrorEnabled();
                default -> LOG.isWarnEnabled();
            };
        }
    }

    private final Kind[] kinds = new Kind[BURST];
    private final int[] vcpus = new int[BURST];
    private final int[] sizes = new int[BURST];
    private final long[] firsts = new long[BURST];
    private final long[] seconds = new long[BURST];
    private final Object[] texts = new Object[BURST];
    private final Object[] details = new Object[BURST];
    /** Lines suppressed just before each entry: its summary line goes out first. */
    private final long[] suppressedBefore = new long[BURST];
    private int head;
    private int count;
    private int tokens = BURST;
    private long lastRefill = System.nanoTime();
    private long suppressed;
    private long total;
    private boolean closed;
    private final Thread writer;

    public GuestLog() {
        writer = new Thread(this::writeLines, "guest-log");
        writer.setDaemon(true);
        writer.start();
    }

    /** A STATUS write other than READY. */
    public void unknownStatus(int vcpu, long value) {
        add(Kind.UNKNOWN_STATUS, vcpu, value, 0, 0, null);
    }

    /** A REPORT value (debug level). */
    public void report(int vcpu, long value) {
        add(Kind.REPORT, vcpu, value, 0, 0, null);
    }

    /** A NOTIFY that exited instead of going to the ioeventfd: not a 32-bit write (debug level). */
    public void notifyExit(int vcpu, long value, int size) {
        add(Kind.NOTIFY, vcpu, value, 0, size, null);
    }

    /** An access no device claims; {@code space} names the address space ("port", "MMIO address"). */
    public void unclaimed(String space, int vcpu, long address, int size, boolean write, long value) {
        add(write ? Kind.UNCLAIMED_WRITE : Kind.UNCLAIMED_READ, vcpu, address, value, size, space);
    }

    /** A PANIC with its (escaped, capped) message. */
    public void panic(int vcpu, String message) {
        add(Kind.PANIC, vcpu, 0, 0, 0, message);
    }

    /** The console sink failed; nothing more is written to it. */
    public void consoleFailed(String reason) {
        add(Kind.CONSOLE_FAILED, -1, 0, 0, 0, reason);
    }

    /**
     * A vsock packet the device dropped, reset or refused. {@code template} is a constant SLF4J message with
     * up to two {} for the values, so recording it allocates nothing.
     */
    public void vsock(String template, long first, long second) {
        add(Kind.VSOCK, -1, first, second, 0, template, null);
    }

    /**
     * The guest broke a device's rules (a bad queue, a bad descriptor chain); the device entered
     * DEVICE_NEEDS_RESET. Called on the device's thread or a vCPU's.
     */
    public void deviceError(String device, String reason) {
        add(Kind.DEVICE_ERROR, -1, 0, 0, 0, device, reason);
    }

    /**
     * A register access a device ignores: a width it does not allow, or an offset with no such register.
     * {@code why} is a constant, so recording this allocates nothing.
     */
    public void deviceAccess(String device, int vcpu, long offset, int size, boolean write, long value, String why) {
        add(write ? Kind.DEVICE_ACCESS_WRITE : Kind.DEVICE_ACCESS_READ, vcpu, offset, value, size, device, why);
    }

    /**
     * A MODMEM request (port 0x507) refused with {@code status}; {@code why} is a constant, so recording this
     * allocates nothing.
     */
    public void modmem(int vcpu, long request, int status, String why) {
        add(Kind.MODMEM, vcpu, request, status, 0, why);
    }

    /** How many lines the guest has caused so far, logged or suppressed (for tests). */
    public synchronized long total() {
        return total;
    }

    private void add(Kind kind, int vcpu, long first, long second, int size, Object text) {
        add(kind, vcpu, first, second, size, text, null);
    }

    private synchronized void add(Kind kind, int vcpu, long first, long second, int size, Object text,
            Object detail) {
        if (!kind.enabled()) {
            return;
        }
        total++;
        refill();
        if (closed || tokens == 0 || count == BURST) {
            suppressed++;
            return;
        }
        tokens--;
        int slot = (head + count) % BURST;
        kinds[slot] = kind;
        vcpus[slot] = vcpu;
        firsts[slot] = first;
        seconds[slot] = second;
        sizes[slot] = size;
        texts[slot] = text;
        details[slot] = detail;
        suppressedBefore[slot] = suppressed;
        suppressed = 0;
        count++;
        LockSupport.unpark(writer);
    }

    private void refill() {
        long now = System.nanoTime();
        long periods = (now - lastRefill) / REFILL_NANOS;
        if (periods > 0) {
            tokens = (int) Math.min(BURST, tokens + periods);
            lastRefill = tokens == BURST ? now : lastRefill + periods * REFILL_NANOS;
        }
    }

    /** The writer thread: takes one entry at a time out of the ring and logs it outside the lock. */
    private void writeLines() {
        while (true) {
            Kind kind;
            int vcpu;
            int size;
            long first;
            long second;
            Object text;
            Object detail;
            long before;
            synchronized (this) {
                if (count == 0) {
                    if (closed) {
                        if (suppressed > 0) {
                            LOG.warn("{} more guest messages suppressed", suppressed);
                            suppressed = 0;
                        }
                        return;
                    }
                    kind = null;
                    vcpu = size = 0;
                    first = second = before = 0;
                    text = null;
                    detail = null;
                } else {
                    kind = kinds[head];
                    vcpu = vcpus[head];
                    size = sizes[head];
                    first = firsts[head];
                    second = seconds[head];
                    text = texts[head];
                    before = suppressedBefore[head];
                    detail = details[head];
                    texts[head] = null;
                    details[head] = null;
                    head = (head + 1) % BURST;
                    count--;
                }
            }
            if (kind == null) {
                LockSupport.park(this);
                continue;
            }
            if (before > 0) {
                LOG.warn("{} more guest messages suppressed", before);
            }
            write(kind, vcpu, first, second, size, text, detail);
        }
    }

    private static void write(Kind kind, int vcpu, long first, long second, int size, Object text, Object detail) {
        switch (kind) {
            case UNKNOWN_STATUS -> LOG.warn("vCPU {} wrote unknown status {} (ignored)", vcpu, first);
            case REPORT -> LOG.debug("vCPU {} reports {}", vcpu, first);
            case NOTIFY -> LOG.debug("vCPU {}: {}-byte NOTIFY {} exited (only 32-bit writes go to the ioeventfd)",
                    vcpu, size, first);
            case UNCLAIMED_READ -> LOG.warn("vCPU {}: {}-byte read of unclaimed {} 0x{} returns all ones", vcpu,
                    size, text, Long.toHexString(first));
            case UNCLAIMED_WRITE -> LOG.warn("vCPU {}: {}-byte write of 0x{} to unclaimed {} 0x{} dropped", vcpu,
                    size, Long.toHexString(second), text, Long.toHexString(first));
            case PANIC -> LOG.error("enclave panicked on vCPU {}: {}", vcpu, text);
            case CONSOLE_FAILED -> LOG.warn("console output stopped: {}", text);
            case DEVICE_ERROR -> LOG.warn("{} needs a reset by the guest's driver: {}", text, detail);
            case DEVICE_ACCESS_READ -> LOG.warn("vCPU {}: {}-byte read of {} register 0x{}: {}",
                    vcpu, size, text, Long.toHexString(first), detail);
            case DEVICE_ACCESS_WRITE -> LOG.warn("vCPU {}: {}-byte write of 0x{} to {} register 0x{}: {}",
                    vcpu, size, Long.toHexString(second), text, Long.toHexString(first), detail);
            case VSOCK -> LOG.warn("vsock: " + text, first, second);
            case MODMEM -> LOG.warn("vCPU {}: MODMEM request at 0x{} refused with status {}: {}", vcpu,
                    Long.toHexString(first), second, text);
        }
    }

    /**
     * Writes what is still queued and the last "suppressed" count, then ends the writer thread. Lines the
     * guest causes after this are only counted.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        LockSupport.unpark(writer);
        try {
            writer.join(CLOSE_WAIT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
