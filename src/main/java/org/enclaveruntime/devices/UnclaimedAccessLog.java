package org.enclaveruntime.devices;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs accesses to addresses no device claims without letting a guest flood the log: the first
 * {@value #DETAILED} are logged one by one, after that one summary line per second at most. Counting is
 * allocation-free, so a guest hammering an unclaimed port costs no garbage.
 */
final class UnclaimedAccessLog {
    private static final Logger LOG = LoggerFactory.getLogger(UnclaimedAccessLog.class);
    static final int DETAILED = 10;
    private static final long SUMMARY_INTERVAL_NANOS = 1_000_000_000L;

    private final String space;
    private long total;
    private long suppressed;
    private long lastSummary = System.nanoTime();

    UnclaimedAccessLog(String space) {
        this.space = space;
    }

    synchronized void record(int vcpu, long address, int size, boolean write, long value) {
        total++;
        if (total <= DETAILED) {
            if (write) {
                LOG.warn("vCPU {}: {}-byte write of 0x{} to unclaimed {} 0x{} dropped", vcpu, size,
                        Long.toHexString(value), space, Long.toHexString(address));
            } else {
                LOG.warn("vCPU {}: {}-byte read of unclaimed {} 0x{} returns all ones", vcpu, size, space,
                        Long.toHexString(address));
            }
            if (total == DETAILED) {
                LOG.warn("further unclaimed {} accesses are summarized once per second", space);
            }
            return;
        }
        suppressed++;
        long now = System.nanoTime();
        if (now - lastSummary >= SUMMARY_INTERVAL_NANOS) {
            LOG.warn("{} more unclaimed {} accesses ({} in total; last: vCPU {}, 0x{})", suppressed, space, total,
                    vcpu, Long.toHexString(address));
            suppressed = 0;
            lastSummary = now;
        }
    }

    synchronized long total() {
        return total;
    }
}
