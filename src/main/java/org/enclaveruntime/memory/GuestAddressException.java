package org.enclaveruntime.memory;

/**
 * A guest-physical range that is not inside guest RAM. Thrown by {@link GuestMemory}; device code that
 * follows an address the (untrusted) guest gave catches it and treats it as a guest error.
 */
public final class GuestAddressException extends RuntimeException {
    private final long gpa;
    private final long length;

    GuestAddressException(long gpa, long length, long ramSize) {
        super("guest range 0x" + Long.toHexString(gpa) + " + " + length + " bytes is outside guest RAM [0, 0x"
                + Long.toHexString(ramSize) + ")");
        this.gpa = gpa;
        this.length = length;
    }

    public long gpa() {
        return gpa;
    }

    public long length() {
        return length;
    }
}
