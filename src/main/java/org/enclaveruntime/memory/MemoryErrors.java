package org.enclaveruntime.memory;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/** E41x: guest RAM cannot be created as asked. */
public final class MemoryErrors {
    private MemoryErrors() {
    }

    public static final ErrorCode GUEST_MEMORY = new ErrorCode("E410", ExitStatus.RESOURCES,
            "cannot allocate guest memory",
            "Lower the enclave's memory size, free memory on the host, or reserve enough hugepages for it.",
            "Creating, sizing or mapping the memfd that backs the enclave's RAM failed. The message names the "
                    + "step and the system's reason: ENOMEM means the host lacks memory; with hugepages, "
                    + "EINVAL or ENOMEM usually mean too few free hugepages of that size "
                    + "(see /sys/kernel/mm/hugepages).");

    public static final ErrorCode GUEST_MEMORY_SIZE = new ErrorCode("E411", ExitStatus.CONFIG,
            "invalid guest memory size",
            "Use a memory size that is a positive multiple of the page size (4 KiB, or the hugepage size).",
            "Guest RAM is mapped in whole pages, so its size must be a multiple of the backing page size: "
                    + "4 KiB for ordinary memory, 2 MiB or 1 GiB for hugepages.");

    public static final List<ErrorCode> ALL = List.of(GUEST_MEMORY, GUEST_MEMORY_SIZE);
}
