package org.enclaveruntime.devices;

/** What the power/status device tells the VMM. Called on the vCPU thread that wrote the port. */
public interface HypercallListener {
    /** The boot vCPU reported READY. */
    void ready(int vcpu);

    /** The guest asked to end with an exit code. The vCPU should stop running. */
    void shutdown(int vcpu, int code);

    /** The guest panicked with a message (already escaped and length-capped). */
    void panic(int vcpu, String message);

    /** The guest is idle: block this vCPU's thread until there is work for it or shutdown is requested. */
    void idle(int vcpu);

    /**
     * The fault stub reported a CPU exception with this vector (its frame is in guest memory); the vCPU
     * should stop running.
     */
    void fault(int vcpu, long vector);
}
