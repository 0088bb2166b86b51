package org.enclaveruntime.kvm;

/**
 * The numbers of the x86-64 KVM ABI that the bindings use: ioctl requests, capabilities, exit reasons
 * and struct layouts as byte offsets. Every value is checked against the kernel's own headers by
 * KvmAbiLayoutTest (a C program compiled during the test prints what the compiler says).
 */
public final class KvmAbi {
    private KvmAbi() {
    }

    public static final int API_VERSION = 12;

    private static final int KVMIO = 0xAE;
    private static final int IOC_WRITE = 1;
    private static final int IOC_READ = 2;

    /** The kernel's _IOC(dir, type, nr, size) encoding. */
    static long ioc(int dir, int nr, int size) {
        return ((long) dir << 30) | ((long) size << 16) | ((long) KVMIO << 8) | nr;
    }

    // system ioctls
    public static final long KVM_GET_API_VERSION = ioc(0, 0x00, 0);
    public static final long KVM_CREATE_VM = ioc(0, 0x01, 0);
    public static final long KVM_CHECK_EXTENSION = ioc(0, 0x03, 0);
    public static final long KVM_GET_VCPU_MMAP_SIZE = ioc(0, 0x04, 0);
    public static final long KVM_GET_SUPPORTED_CPUID = ioc(IOC_READ | IOC_WRITE, 0x05, Cpuid2.SIZE);
    // vm ioctls
    public static final long KVM_CREATE_VCPU = ioc(0, 0x41, 0);
    public static final long KVM_SET_USER_MEMORY_REGION = ioc(IOC_WRITE, 0x46, MemoryRegion.SIZE);
    public static final long KVM_IOEVENTFD = ioc(IOC_WRITE, 0x79, IoEventFd.SIZE);
    // vcpu ioctls
    public static final long KVM_RUN = ioc(0, 0x80, 0);
    public static final long KVM_GET_REGS = ioc(IOC_READ, 0x81, Regs.SIZE);
    public static final long KVM_SET_REGS = ioc(IOC_WRITE, 0x82, Regs.SIZE);
    public static final long KVM_GET_SREGS = ioc(IOC_READ, 0x83, Sregs.SIZE);
    public static final long KVM_SET_SREGS = ioc(IOC_WRITE, 0x84, Sregs.SIZE);
    public static final long KVM_SET_CPUID2 = ioc(IOC_WRITE, 0x90, Cpuid2.SIZE);
    public static final long KVM_SET_FPU = ioc(IOC_WRITE, 0x8d, Fpu.SIZE);

    public static final int KVM_CAP_USER_MEMORY = 3;
    public static final int KVM_CAP_EXT_CPUID = 7;
    public static final int KVM_CAP_IOEVENTFD = 36;
    public static final int KVM_CAP_IMMEDIATE_EXIT = 136;

    public static final int KVM_EXIT_UNKNOWN = 0;
    public static final int KVM_EXIT_EXCEPTION = 1;
    public static final int KVM_EXIT_IO = 2;
    public static final int KVM_EXIT_HLT = 5;
    public static final int KVM_EXIT_MMIO = 6;
    public static final int KVM_EXIT_SHUTDOWN = 8;
    public static final int KVM_EXIT_FAIL_ENTRY = 9;
    public static final int KVM_EXIT_INTR = 10;
    public static final int KVM_EXIT_INTERNAL_ERROR = 17;

    public static final int KVM_EXIT_IO_IN = 0;
    public static final int KVM_EXIT_IO_OUT = 1;

    public static final int KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
    public static final int KVM_IOEVENTFD_FLAG_PIO = 2;

    /** struct kvm_regs: 18 u64 in this order. */
    public static final class Regs {
        private Regs() {
        }

        public static final int RAX = 0, RBX = 8, RCX = 16, RDX = 24, RSI = 32, RDI = 40, RSP = 48, RBP = 56;
        public static final int R8 = 64, R9 = 72, R10 = 80, R11 = 88, R12 = 96, R13 = 104, R14 = 112, R15 = 120;
        public static final int RIP = 128, RFLAGS = 136;
        public static final int SIZE = 144;
    }

    /** struct kvm_segment. */
    public static final class Segment {
        private Segment() {
        }

        public static final int BASE = 0, LIMIT = 8, SELECTOR = 12, TYPE = 14, PRESENT = 15, DPL = 16, DB = 17,
                S = 18, L = 19, G = 20, AVL = 21, UNUSABLE = 22;
        public static final int SIZE = 24;
    }

    /** struct kvm_dtable. */
    public static final class Dtable {
        private Dtable() {
        }

        public static final int BASE = 0, LIMIT = 8;
        public static final int SIZE = 16;
    }

    /** struct kvm_sregs. */
    public static final class Sregs {
        private Sregs() {
        }

        public static final int CS = 0, DS = 24, ES = 48, FS = 72, GS = 96, SS = 120, TR = 144, LDT = 168;
        public static final int GDT = 192, IDT = 208;
        public static final int CR0 = 224, CR2 = 232, CR3 = 240, CR4 = 248, CR8 = 256, EFER = 264, APIC_BASE = 272;
        public static final int INTERRUPT_BITMAP = 280;
        public static final int SIZE = 312;
    }

    /** struct kvm_fpu: the legacy FXSAVE image (x87 and SSE state) KVM_SET_FPU loads. */
    public static final class Fpu {
        private Fpu() {
        }

        public static final int FPR = 0, FCW = 128, FSW = 130, FTWX = 132, LAST_OPCODE = 134, LAST_IP = 136,
                LAST_DP = 144, XMM = 152, MXCSR = 408;
        public static final int SIZE = 416;
    }

    /** struct kvm_userspace_memory_region. */
    public static final class MemoryRegion {
        private MemoryRegion() {
        }

        public static final int SLOT = 0, FLAGS = 4, GUEST_PHYS_ADDR = 8, MEMORY_SIZE = 16, USERSPACE_ADDR = 24;
        public static final int SIZE = 32;
    }

    /** struct kvm_cpuid2 (header; the entries follow). */
    public static final class Cpuid2 {
        private Cpuid2() {
        }

        public static final int NENT = 0, ENTRIES = 8;
        public static final int SIZE = 8;
    }

    /** struct kvm_cpuid_entry2. */
    public static final class CpuidEntry2 {
        private CpuidEntry2() {
        }

        public static final int FUNCTION = 0, INDEX = 4, FLAGS = 8, EAX = 12, EBX = 16, ECX = 20, EDX = 24;
        public static final int SIZE = 40;
    }

    /** struct kvm_ioeventfd. */
    public static final class IoEventFd {
        private IoEventFd() {
        }

        public static final int DATAMATCH = 0, ADDR = 8, LEN = 16, FD = 20, FLAGS = 24;
        public static final int SIZE = 64;
    }

    /** struct kvm_run: the fixed head and the union members the VMM reads. */
    public static final class Run {
        private Run() {
        }

        public static final int REQUEST_INTERRUPT_WINDOW = 0, IMMEDIATE_EXIT = 1, EXIT_REASON = 8;
        public static final int IO_DIRECTION = 32, IO_SIZE = 33, IO_PORT = 34, IO_COUNT = 36, IO_DATA_OFFSET = 40;
        public static final int MMIO_PHYS_ADDR = 32, MMIO_DATA = 40, MMIO_LEN = 48, MMIO_IS_WRITE = 52;
        public static final int FAIL_ENTRY_HARDWARE_REASON = 32, FAIL_ENTRY_CPU = 40;
        public static final int INTERNAL_SUBERROR = 32, INTERNAL_NDATA = 36, INTERNAL_DATA = 40;
        public static final int INTERNAL_DATA_MAX = 16;
    }
}
