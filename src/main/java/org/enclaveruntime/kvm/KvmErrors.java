package org.enclaveruntime.kvm;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/** E40x: KVM itself is missing, not permitted, too old, or refused an operation. */
public final class KvmErrors {
    private KvmErrors() {
    }

    public static final ErrorCode KVM_MISSING = new ErrorCode("E400", ExitStatus.KVM, "/dev/kvm does not exist",
            "Load the KVM module (modprobe kvm_intel or modprobe kvm_amd); on a cloud VM, use an instance type "
                    + "with nested virtualization enabled.",
            "enclavectl runs the enclave as a KVM virtual machine and needs /dev/kvm. The device exists when the "
                    + "kvm_intel or kvm_amd module is loaded and the CPU exposes hardware virtualization (VT-x or "
                    + "AMD-V). Inside a cloud VM that means nested virtualization must be enabled for the instance "
                    + "(for example a metal or nested-virtualization-capable instance type). Check with "
                    + "`lsmod | grep kvm` and `grep -E 'vmx|svm' /proc/cpuinfo`.");

    public static final ErrorCode KVM_NOT_PERMITTED = new ErrorCode("E401", ExitStatus.KVM,
            "/dev/kvm is not accessible",
            "Run enclavectl as root, or add the service user to the group that owns /dev/kvm (usually kvm).",
            "Opening /dev/kvm for reading and writing was refused. The device is usually owned by root and "
                    + "group kvm with mode 0660; `ls -l /dev/kvm` shows who may open it. A security module "
                    + "(SELinux, AppArmor) or a container's device policy can also refuse it.");

    public static final ErrorCode KVM_API_VERSION = new ErrorCode("E402", ExitStatus.KVM,
            "unsupported KVM API version",
            "Use a Linux kernel whose KVM reports API version 12 (every kernel since 2.6.22 does).",
            "KVM_GET_API_VERSION returned a value other than 12, the only stable KVM API. The kernel or the "
                    + "device behind /dev/kvm is not the KVM enclavectl was written for.");

    public static final ErrorCode KVM_CAPABILITY_MISSING = new ErrorCode("E403", ExitStatus.KVM,
            "a required KVM capability is missing",
            "Use a newer kernel (5.x or later); the message names the capability KVM lacks.",
            "enclavectl relies on KVM_CAP_USER_MEMORY, KVM_CAP_IOEVENTFD, KVM_CAP_IMMEDIATE_EXIT and "
                    + "KVM_CAP_EXT_CPUID. KVM_CHECK_EXTENSION reported one of them as absent.");

    public static final ErrorCode KVM_OPERATION_FAILED = new ErrorCode("E404", ExitStatus.KVM,
            "a KVM operation failed",
            "The message names the operation and the system's reason; check free memory and the kernel log "
                    + "(dmesg), then retry.",
            "An ioctl on /dev/kvm, the VM or a vCPU failed. Common reasons: not enough memory (ENOMEM), too "
                    + "many vCPUs for this host (EINVAL on KVM_CREATE_VCPU), or a host kernel problem shown "
                    + "in dmesg.");

    public static final List<ErrorCode> ALL = List.of(KVM_MISSING, KVM_NOT_PERMITTED, KVM_API_VERSION,
            KVM_CAPABILITY_MISSING, KVM_OPERATION_FAILED);
}
