package org.enclaveruntime.kvm;

import jnr.ffi.Pointer;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.linux.Native;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.enclaveruntime.kvm.KvmCalls.LIBC;
import static org.enclaveruntime.kvm.KvmCalls.check;

/**
 * The KVM system handle (/dev/kvm). Opening it checks the API version and every capability the VMM relies
 * on, so that a host that cannot run the enclave fails here with one clear error rather than later.
 */
public final class Kvm implements AutoCloseable {
    /** Where KVM lives on every Linux host; configuration ([runtime] kvm_device) may say otherwise. */
    public static final Path DEFAULT_DEVICE = Path.of("/dev/kvm");

    private static final int[] REQUIRED_CAPS = {KvmAbi.KVM_CAP_USER_MEMORY, KvmAbi.KVM_CAP_IOEVENTFD,
            KvmAbi.KVM_CAP_IMMEDIATE_EXIT, KvmAbi.KVM_CAP_EXT_CPUID};
    private static final String[] REQUIRED_CAP_NAMES = {"KVM_CAP_USER_MEMORY", "KVM_CAP_IOEVENTFD",
            "KVM_CAP_IMMEDIATE_EXIT", "KVM_CAP_EXT_CPUID"};
    private static final int MAX_CPUID_ENTRIES = 256;
    private static final int E2BIG = 7;

    private final int fd;
    private final int vcpuMmapSize;
    private boolean closed;

    private Kvm(int fd, int vcpuMmapSize) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /** Opens /dev/kvm and checks it; throws {@link EnclaveException} with a KvmErrors code and a remedy. */
    public static Kvm open() {
        return open(DEFAULT_DEVICE);
    }

    /** Opens and checks the KVM device at {@code device}, as {@link #open()} does for /dev/kvm. */
    public static Kvm open(Path device) {
        int fd = LIBC.open(device.toString(), Native.O_RDWR | Native.O_CLOEXEC, 0);
        if (fd < 0) {
            int errno = Native.errno();
            if (errno == Native.ENOENT || !Files.exists(device)) {
                throw new EnclaveException(KvmErrors.KVM_MISSING, device + " does not exist on this host");
            }
            if (errno == Native.EACCES || errno == Native.EPERM) {
                throw new EnclaveException(KvmErrors.KVM_NOT_PERMITTED,
                        "cannot open " + device + ": " + Native.describe(errno));
            }
            throw new EnclaveException(KvmErrors.KVM_OPERATION_FAILED,
                    "cannot open " + device + ": " + Native.describe(errno));
        }
        try {
            int version = LIBC.ioctl(fd, KvmAbi.KVM_GET_API_VERSION, 0L);
            if (version != KvmAbi.API_VERSION) {
                throw new EnclaveException(KvmErrors.KVM_API_VERSION, device + " reports KVM API version "
                        + version + "; enclavectl needs version " + KvmAbi.API_VERSION);
            }
            for (int i = 0; i < REQUIRED_CAPS.length; i++) {
                if (LIBC.ioctl(fd, KvmAbi.KVM_CHECK_EXTENSION, (long) REQUIRED_CAPS[i]) <= 0) {
                    throw new EnclaveException(KvmErrors.KVM_CAPABILITY_MISSING,
                            "KVM on this host lacks " + REQUIRED_CAP_NAMES[i]);
                }
            }
            int mmapSize = check(LIBC.ioctl(fd, KvmAbi.KVM_GET_VCPU_MMAP_SIZE, 0L), "KVM_GET_VCPU_MMAP_SIZE");
            return new Kvm(fd, mmapSize);
        } catch (RuntimeException e) {
            LIBC.close(fd);
            throw e;
        }
    }

    /** Size of the kvm_run area each vCPU fd maps. */
    public int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    public int checkExtension(int capability) {
        return LIBC.ioctl(fd, KvmAbi.KVM_CHECK_EXTENSION, (long) capability);
    }

    /** KVM_GET_SUPPORTED_CPUID: every leaf this host's KVM can offer a guest. */
    public CpuidTable supportedCpuid() {
        Pointer buffer = KvmCalls.allocate(KvmAbi.Cpuid2.SIZE + MAX_CPUID_ENTRIES * KvmAbi.CpuidEntry2.SIZE);
        buffer.putInt(KvmAbi.Cpuid2.NENT, MAX_CPUID_ENTRIES);
        int rc = LIBC.ioctl(fd, KvmAbi.KVM_GET_SUPPORTED_CPUID, buffer);
        if (rc < 0) {
            int errno = Native.errno();
            throw KvmCalls.failure("KVM_GET_SUPPORTED_CPUID" + (errno == E2BIG ? " (more than "
                    + MAX_CPUID_ENTRIES + " leaves)" : ""), errno);
        }
        return new CpuidTable(buffer, buffer.getInt(KvmAbi.Cpuid2.NENT));
    }

    public KvmVm createVm() {
        int vmFd = check(LIBC.ioctl(fd, KvmAbi.KVM_CREATE_VM, 0L), "KVM_CREATE_VM");
        return new KvmVm(this, vmFd);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LIBC.close(fd);
        }
    }
}
