package org.enclaveruntime.vmm;

/** How an enclave VM ended. */
public sealed interface EnclaveExit {
    /** The guest wrote SHUTDOWN on its own with this exit code. */
    record CleanShutdown(int code) implements EnclaveExit {
    }

    /**
     * The VMM was asked to stop it: {@code forced} = false when the guest acknowledged by writing SHUTDOWN
     * within the grace period, true when its vCPUs had to be kicked out.
     */
    record Stopped(boolean forced) implements EnclaveExit {
    }

    /**
     * The guest faulted (reason names the exception, rip and cr2, e.g. "#PF page fault at rip=0x100000,
     * cr2=0x0, ..."; registers are those at the fault) or KVM could not go on running a vCPU: triple fault,
     * internal error, failed entry, unexpected exit.
     */
    record Crashed(String reason, int vcpu, String registers) implements EnclaveExit {
    }

    /** The guest reported a panic with this (escaped, length-capped) message. */
    record Panicked(String message) implements EnclaveExit {
    }

    /** The VMM itself failed while running the enclave (a failed KVM_RUN, pinning refused). */
    record Failed(String reason) implements EnclaveExit {
    }
}
