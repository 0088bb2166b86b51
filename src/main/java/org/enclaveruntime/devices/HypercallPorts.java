package org.enclaveruntime.devices;

import org.enclaveruntime.memory.GuestAddressException;
import org.enclaveruntime.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;

/**
 * The power and status ports of docs/guest-abi.md (0x500..0x506): READY, SHUTDOWN with an exit code, PANIC
 * with a message in guest memory, WAIT (idle), NOTIFY (normally absorbed by an ioeventfd), REPORT, and
 * FAULT, which only the VMM's ring-0 fault stub writes. Every write but PANIC and FAULT (each the enclave's
 * end) is handled without allocating: what a guest can repeat a million times must cost no garbage.
 */
public final class HypercallPorts implements BusDevice {
    public static final int BASE = 0x500;
    public static final int PORTS = 7;
    /** Offsets from {@link #BASE}. */
    public static final int STATUS = 0, SHUTDOWN = 1, PANIC = 2, WAIT = 3, NOTIFY = 4, REPORT = 5, FAULT = 6;
    /** NOTIFY's port, which the VMM backs with an ioeventfd for 32-bit writes. */
    public static final int NOTIFY_PORT = BASE + NOTIFY;
    public static final int STATUS_READY = 1;
    /** Bytes of a panic message read at most, its NUL included. */
    public static final int PANIC_MESSAGE_MAX = 512;
    /** REPORT values kept for tests and status; older ones are dropped. */
    public static final int REPORTS_KEPT = 256;

    private final GuestMemory memory;
    private final HypercallListener listener;
    private final GuestLog log;
    /** The last REPORTs as a ring of primitives: recording one allocates nothing. */
    private final int[] reportVcpus = new int[REPORTS_KEPT];
    private final long[] reportValues = new long[REPORTS_KEPT];
    private long reportCount;

    /** A REPORT write: the value a vCPU recorded. */
    public record Report(int vcpu, long value) {
    }

    public HypercallPorts(GuestMemory memory, HypercallListener listener, GuestLog log) {
        this.memory = memory;
        this.listener = listener;
        this.log = log;
    }

    @Override
    public long read(int vcpu, long offset, int size) {
        // The ports are write-only; reading one is like reading nothing.
        return size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }

    @Override
    public void write(int vcpu, long offset, int size, long value) {
        switch ((int) offset) {
            case STATUS:
                if (value == STATUS_READY) {
                    listener.ready(vcpu);
                } else {
                    log.unknownStatus(vcpu, value);
                }
                break;
            case SHUTDOWN:
                listener.shutdown(vcpu, (int) value);
                break;
            case PANIC:
                String message = panicMessage(value);
                log.panic(vcpu, message);
                listener.panic(vcpu, message);
                break;
            case WAIT:
                listener.idle(vcpu);
                break;
            case NOTIFY:
                // 32-bit writes never get here (the ioeventfd takes them); there is no virtio device yet.
                log.notifyExit(vcpu, value, size);
                break;
            case REPORT:
                record(vcpu, value);
                break;
            case FAULT:
                listener.fault(vcpu, value);
                break;
            default:
                break;
        }
    }

    private void record(int vcpu, long value) {
        synchronized (reportValues) {
            int slot = (int) (reportCount % REPORTS_KEPT);
            reportVcpus[slot] = vcpu;
            reportValues[slot] = value;
            reportCount++;
        }
        log.report(vcpu, value);
    }

    /** The REPORT values so far, oldest first (at most {@value #REPORTS_KEPT}). */
    public List<Report> reports() {
        synchronized (reportValues) {
            long first = Math.max(0, reportCount - REPORTS_KEPT);
            List<Report> list = new ArrayList<>((int) (reportCount - first));
            for (long i = first; i < reportCount; i++) {
                int slot = (int) (i % REPORTS_KEPT);
                list.add(new Report(reportVcpus[slot], reportValues[slot]));
            }
            return List.copyOf(list);
        }
    }

    /**
     * Reads the NUL-terminated message the guest points at: at most {@value #PANIC_MESSAGE_MAX} bytes, never
     * past the end of RAM, bytes outside printable ASCII escaped as \xNN so that the guest cannot forge log
     * lines or terminal escapes.
     */
    String panicMessage(long gpa) {
        if (!memory.contains(gpa, 1)) {
            return "(panic message at 0x" + Long.toHexString(gpa) + " is outside guest RAM)";
        }
        int length = (int) Math.min(PANIC_MESSAGE_MAX, memory.size() - gpa);
        byte[] bytes = new byte[length];
        try {
            memory.read(gpa, bytes, 0, length);
        } catch (GuestAddressException e) {
            return "(panic message unreadable: " + e.getMessage() + ")";
        }
        StringBuilder b = new StringBuilder(length);
        int i = 0;
        for (; i < length && bytes[i] != 0; i++) {
            int c = bytes[i] & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                b.append((char) c);
            } else if (c == '\\') {
                b.append("\\\\");
            } else {
                b.append(String.format("\\x%02x", c));
            }
        }
        if (i == length) {
            b.append(" [truncated]");
        }
        return b.toString();
    }
}
