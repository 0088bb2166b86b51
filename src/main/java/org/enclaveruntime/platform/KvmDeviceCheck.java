package org.enclaveruntime.platform;

import org.enclaveruntime.kvm.KvmErrors;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

import java.nio.file.Path;

/**
 * /dev/kvm opens read/write and speaks the stable API (KVM_GET_API_VERSION = 12). The one ioctl is made
 * here directly so that doctor does not depend on the VMM.
 */
public record KvmDeviceCheck(Path device) implements DoctorCheck {
    /** _IO(KVMIO = 0xAE, 0x00). */
    static final long KVM_GET_API_VERSION = 0xAE00;
    /** The only version KVM has had since Linux 2.6.22; anything else is not a KVM we know. */
    static final int KVM_API_VERSION = 12;

    @Override
    public String name() {
        return "kvm";
    }

    @Override
    public CheckResult run() {
        LibC libc = LibC.INSTANCE;
        int fd = libc.open(device.toString(), Native.O_RDWR | Native.O_CLOEXEC, 0);
        if (fd < 0) {
            int errno = Native.errno();
            if (errno == Native.ENOENT) {
                return CheckResult.fail(device + " does not exist: KVM is not available on this instance",
                        KvmErrors.KVM_MISSING.remedy());
            }
            if (errno == Native.EACCES || errno == Native.EPERM) {
                return CheckResult.fail("cannot open " + device + " for reading and writing: " + Native.describe(errno),
                        KvmErrors.KVM_NOT_PERMITTED.remedy());
            }
            return CheckResult.fail("cannot open " + device + ": " + Native.describe(errno),
                    "Check that " + device + " is the KVM character device (10:232).");
        }
        try {
            int version = libc.ioctl(fd, KVM_GET_API_VERSION, 0L);
            if (version < 0) {
                return CheckResult.fail(device + " refused KVM_GET_API_VERSION: " + Native.describe(Native.errno())
                        + "; it is not the KVM device", "Check that " + device + " is the KVM character device (10:232).");
            }
            if (version != KVM_API_VERSION) {
                return CheckResult.fail(device + " reports KVM API version " + version + ", expected "
                        + KVM_API_VERSION, KvmErrors.KVM_API_VERSION.remedy());
            }
            return CheckResult.ok(device + " is readable and writable, KVM API version " + version);
        } finally {
            libc.close(fd);
        }
    }
}
