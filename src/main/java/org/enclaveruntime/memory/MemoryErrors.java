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

    public static final ErrorCode GUEST_MEMORY_LOCK = new ErrorCode("E412", ExitStatus.RESOURCES,
            "cannot lock guest memory",
            "Raise the VMM's locked-memory limit (LimitMEMLOCK=infinity in its systemd unit, or `ulimit -l "
                    + "unlimited` in the shell that runs `enclavectl start`), run it as root (CAP_IPC_LOCK), or back "
                    + "the enclave with hugepages (hugepages = 2M in [runtime]), which are never swapped.",
            "Guest RAM in ordinary 4 KiB pages is locked (mlock2, on fault) so that the enclave's memory never "
                    + "goes to swap, where it would outlive the enclave unscrubbed. The kernel refused: without "
                    + "CAP_IPC_LOCK a process may lock only RLIMIT_MEMLOCK bytes (often 64 KiB or 8 MiB). The "
                    + "start is undone; nothing is reserved. Hugepages are not swappable and need no lock.");

    public static final List<ErrorCode> ALL = List.of(GUEST_MEMORY, GUEST_MEMORY_SIZE, GUEST_MEMORY_LOCK);
}
