package org.enclaveruntime.devices;

/**
 * A device on the port or MMIO bus. Offsets are relative to the start of the range the device was
 * registered at; sizes are 1, 2, 4 or 8 bytes; values are zero-extended little-endian. Called on the vCPU
 * thread that made the access, so an implementation shared by several vCPUs must be thread-safe.
 */
public interface BusDevice {
    long read(int vcpu, long offset, int size);

    void write(int vcpu, long offset, int size, long value);
}
