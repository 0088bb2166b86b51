package org.enclaveruntime.platform;

import java.nio.file.Path;

/** Memory available now, after the primary's reserve, against a memory request. */
public record MemoryCheck(Path root, long requestBytes, long reserveBytes) implements DoctorCheck {
    private static final long MIB = 1L << 20;

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public CheckResult run() {
        MemoryInfo m = MemoryReader.read(root);
        long spare = m.availableBytes() - reserveBytes;
        String detail = m.totalBytes() / MIB + " MiB total, " + m.availableBytes() / MIB + " MiB available; after "
                + "reserve_memory = " + reserveBytes / MIB + "M, " + Math.max(0, spare) / MIB + " MiB can go to the enclave";
        if (spare < requestBytes) {
            return CheckResult.fail(detail + ", less than memory = " + requestBytes / MIB + "M",
                    "Lower memory or reserve_memory, or free memory on the primary.");
        }
        return CheckResult.ok(detail + " (memory = " + requestBytes / MIB + "M fits)");
    }
}
