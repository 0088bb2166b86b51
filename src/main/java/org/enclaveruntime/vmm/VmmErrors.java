package org.enclaveruntime.vmm;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/** E42x: the VMM cannot build or run the enclave VM as asked. */
public final class VmmErrors {
    private VmmErrors() {
    }

    public static final ErrorCode INVALID_VM_SPEC = new ErrorCode("E420", ExitStatus.CONFIG,
            "invalid enclave VM settings",
            "Fix the setting the message names (vCPU count, memory size, CID or CPU list) and start again.",
            "The VMM checks the settings it is given before it creates anything: 1 to 255 vCPUs, memory a "
                    + "multiple of 2 MiB between 4 MiB and 108 GiB with room for one 64 KiB stack per vCPU, a "
                    + "vsock CID of 3 or more, and either no CPU list or one CPU per vCPU.");

    public static final ErrorCode KICK_SIGNAL = new ErrorCode("E422", ExitStatus.INTERNAL,
            "cannot install the vCPU kick signal handler",
            "Another component of this process uses the real-time signal named in the message; report this.",
            "To stop a vCPU that does not stop by itself, the VMM interrupts KVM_RUN with a real-time signal "
                    + "whose handler does nothing. Installing that handler failed, or the signal already had "
                    + "another handler.");

    public static final ErrorCode INVALID_LINUX_IMAGE = new ErrorCode("E423", ExitStatus.IMAGE,
            "the Linux kernel image cannot be booted",
            "Use a bzImage with boot protocol 2.06 or later built for x86-64, or check the initrd and command "
                    + "line sizes named in the message.",
            "A Linux guest needs a bzImage whose setup header carries the HdrS signature, boot protocol 2.06 or "
                    + "later, a 64-bit entry point (XLF_KERNEL_64) and a protected-mode kernel that fits in guest "
                    + "RAM together with its initrd and command line.");

    public static final List<ErrorCode> ALL = List.of(INVALID_VM_SPEC, KICK_SIGNAL,
            INVALID_LINUX_IMAGE);
}
