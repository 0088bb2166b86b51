/*
 * Prints every KVM number and struct layout the Java bindings (org.enclaveruntime.kvm.KvmAbi) and the
 * vCPU kicker (org.enclaveruntime.vmm.KickSignal) use, as "<java constant> <value>", from the kernel's
 * and libc's own headers. Compiled and run by KvmAbiLayoutTest.
 */
#define _GNU_SOURCE
#include <linux/kvm.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#define N(name, value) printf("%s %llu\n", name, (unsigned long long)(value))
#define OFF(java, s, f) N(java, offsetof(struct s, f))

int main(void) {
    N("API_VERSION", KVM_API_VERSION);
    N("KVM_GET_API_VERSION", KVM_GET_API_VERSION);
    N("KVM_CREATE_VM", KVM_CREATE_VM);
    N("KVM_CHECK_EXTENSION", KVM_CHECK_EXTENSION);
    N("KVM_GET_VCPU_MMAP_SIZE", KVM_GET_VCPU_MMAP_SIZE);
    N("KVM_GET_SUPPORTED_CPUID", KVM_GET_SUPPORTED_CPUID);
    N("KVM_CREATE_VCPU", KVM_CREATE_VCPU);
    N("KVM_SET_USER_MEMORY_REGION", KVM_SET_USER_MEMORY_REGION);
    N("KVM_IOEVENTFD", KVM_IOEVENTFD);
    N("KVM_RUN", KVM_RUN);
    N("KVM_GET_REGS", KVM_GET_REGS);
    N("KVM_SET_REGS", KVM_SET_REGS);
    N("KVM_GET_SREGS", KVM_GET_SREGS);
    N("KVM_SET_SREGS", KVM_SET_SREGS);
    N("KVM_SET_CPUID2", KVM_SET_CPUID2);
    N("KVM_SET_FPU", KVM_SET_FPU);
    N("KVM_CAP_USER_MEMORY", KVM_CAP_USER_MEMORY);
    N("KVM_CAP_EXT_CPUID", KVM_CAP_EXT_CPUID);
    N("KVM_CAP_IOEVENTFD", KVM_CAP_IOEVENTFD);
    N("KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT);
    N("KVM_EXIT_UNKNOWN", KVM_EXIT_UNKNOWN);
    N("KVM_EXIT_EXCEPTION", KVM_EXIT_EXCEPTION);
    N("KVM_EXIT_IO", KVM_EXIT_IO);
    N("KVM_EXIT_HLT", KVM_EXIT_HLT);
    N("KVM_EXIT_MMIO", KVM_EXIT_MMIO);
    N("KVM_EXIT_SHUTDOWN", KVM_EXIT_SHUTDOWN);
    N("KVM_EXIT_FAIL_ENTRY", KVM_EXIT_FAIL_ENTRY);
    N("KVM_EXIT_INTR", KVM_EXIT_INTR);
    N("KVM_EXIT_INTERNAL_ERROR", KVM_EXIT_INTERNAL_ERROR);
    N("KVM_EXIT_IO_IN", KVM_EXIT_IO_IN);
    N("KVM_EXIT_IO_OUT", KVM_EXIT_IO_OUT);
    N("KVM_IOEVENTFD_FLAG_DATAMATCH", KVM_IOEVENTFD_FLAG_DATAMATCH);
    N("KVM_IOEVENTFD_FLAG_PIO", KVM_IOEVENTFD_FLAG_PIO);

    OFF("Regs.RAX", kvm_regs, rax); OFF("Regs.RBX", kvm_regs, rbx); OFF("Regs.RCX", kvm_regs, rcx);
    OFF("Regs.RDX", kvm_regs, rdx); OFF("Regs.RSI", kvm_regs, rsi); OFF("Regs.RDI", kvm_regs, rdi);
    OFF("Regs.RSP", kvm_regs, rsp); OFF("Regs.RBP", kvm_regs, rbp); OFF("Regs.R8", kvm_regs, r8);
    OFF("Regs.R9", kvm_regs, r9); OFF("Regs.R10", kvm_regs, r10); OFF("Regs.R11", kvm_regs, r11);
    OFF("Regs.R12", kvm_regs, r12); OFF("Regs.R13", kvm_regs, r13); OFF("Regs.R14", kvm_regs, r14);
    OFF("Regs.R15", kvm_regs, r15); OFF("Regs.RIP", kvm_regs, rip); OFF("Regs.RFLAGS", kvm_regs, rflags);
    N("Regs.SIZE", sizeof(struct kvm_regs));

    OFF("Fpu.FPR", kvm_fpu, fpr); OFF("Fpu.FCW", kvm_fpu, fcw); OFF("Fpu.FSW", kvm_fpu, fsw);
    OFF("Fpu.FTWX", kvm_fpu, ftwx); OFF("Fpu.LAST_OPCODE", kvm_fpu, last_opcode); OFF("Fpu.LAST_IP", kvm_fpu, last_ip);
    OFF("Fpu.LAST_DP", kvm_fpu, last_dp); OFF("Fpu.XMM", kvm_fpu, xmm); OFF("Fpu.MXCSR", kvm_fpu, mxcsr);
    N("Fpu.SIZE", sizeof(struct kvm_fpu));

    OFF("Segment.BASE", kvm_segment, base); OFF("Segment.LIMIT", kvm_segment, limit);
    OFF("Segment.SELECTOR", kvm_segment, selector); OFF("Segment.TYPE", kvm_segment, type);
    OFF("Segment.PRESENT", kvm_segment, present); OFF("Segment.DPL", kvm_segment, dpl);
    OFF("Segment.DB", kvm_segment, db); OFF("Segment.S", kvm_segment, s); OFF("Segment.L", kvm_segment, l);
    OFF("Segment.G", kvm_segment, g); OFF("Segment.AVL", kvm_segment, avl);
    OFF("Segment.UNUSABLE", kvm_segment, unusable);
    N("Segment.SIZE", sizeof(struct kvm_segment));

    OFF("Dtable.BASE", kvm_dtable, base); OFF("Dtable.LIMIT", kvm_dtable, limit);
    N("Dtable.SIZE", sizeof(struct kvm_dtable));

    OFF("Sregs.CS", kvm_sregs, cs); OFF("Sregs.DS", kvm_sregs, ds); OFF("Sregs.ES", kvm_sregs, es);
    OFF("Sregs.FS", kvm_sregs, fs); OFF("Sregs.GS", kvm_sregs, gs); OFF("Sregs.SS", kvm_sregs, ss);
    OFF("Sregs.TR", kvm_sregs, tr); OFF("Sregs.LDT", kvm_sregs, ldt); OFF("Sregs.GDT", kvm_sregs, gdt);
    OFF("Sregs.IDT", kvm_sregs, idt); OFF("Sregs.CR0", kvm_sregs, cr0); OFF("Sregs.CR2", kvm_sregs, cr2);
    OFF("Sregs.CR3", kvm_sregs, cr3); OFF("Sregs.CR4", kvm_sregs, cr4); OFF("Sregs.CR8", kvm_sregs, cr8);
    OFF("Sregs.EFER", kvm_sregs, efer); OFF("Sregs.APIC_BASE", kvm_sregs, apic_base);
    OFF("Sregs.INTERRUPT_BITMAP", kvm_sregs, interrupt_bitmap);
    N("Sregs.SIZE", sizeof(struct kvm_sregs));

    OFF("MemoryRegion.SLOT", kvm_userspace_memory_region, slot);
    OFF("MemoryRegion.FLAGS", kvm_userspace_memory_region, flags);
    OFF("MemoryRegion.GUEST_PHYS_ADDR", kvm_userspace_memory_region, guest_phys_addr);
    OFF("MemoryRegion.MEMORY_SIZE", kvm_userspace_memory_region, memory_size);
    OFF("MemoryRegion.USERSPACE_ADDR", kvm_userspace_memory_region, userspace_addr);
    N("MemoryRegion.SIZE", sizeof(struct kvm_userspace_memory_region));

    OFF("Cpuid2.NENT", kvm_cpuid2, nent); OFF("Cpuid2.ENTRIES", kvm_cpuid2, entries);
    N("Cpuid2.SIZE", sizeof(struct kvm_cpuid2));
    OFF("CpuidEntry2.FUNCTION", kvm_cpuid_entry2, function); OFF("CpuidEntry2.INDEX", kvm_cpuid_entry2, index);
    OFF("CpuidEntry2.FLAGS", kvm_cpuid_entry2, flags); OFF("CpuidEntry2.EAX", kvm_cpuid_entry2, eax);
    OFF("CpuidEntry2.EBX", kvm_cpuid_entry2, ebx); OFF("CpuidEntry2.ECX", kvm_cpuid_entry2, ecx);
    OFF("CpuidEntry2.EDX", kvm_cpuid_entry2, edx);
    N("CpuidEntry2.SIZE", sizeof(struct kvm_cpuid_entry2));

    OFF("IoEventFd.DATAMATCH", kvm_ioeventfd, datamatch); OFF("IoEventFd.ADDR", kvm_ioeventfd, addr);
    OFF("IoEventFd.LEN", kvm_ioeventfd, len); OFF("IoEventFd.FD", kvm_ioeventfd, fd);
    OFF("IoEventFd.FLAGS", kvm_ioeventfd, flags);
    N("IoEventFd.SIZE", sizeof(struct kvm_ioeventfd));

    OFF("Run.REQUEST_INTERRUPT_WINDOW", kvm_run, request_interrupt_window);
    OFF("Run.IMMEDIATE_EXIT", kvm_run, immediate_exit);
    OFF("Run.EXIT_REASON", kvm_run, exit_reason);
    OFF("Run.IO_DIRECTION", kvm_run, io.direction); OFF("Run.IO_SIZE", kvm_run, io.size);
    OFF("Run.IO_PORT", kvm_run, io.port); OFF("Run.IO_COUNT", kvm_run, io.count);
    OFF("Run.IO_DATA_OFFSET", kvm_run, io.data_offset);
    OFF("Run.MMIO_PHYS_ADDR", kvm_run, mmio.phys_addr); OFF("Run.MMIO_DATA", kvm_run, mmio.data);
    OFF("Run.MMIO_LEN", kvm_run, mmio.len); OFF("Run.MMIO_IS_WRITE", kvm_run, mmio.is_write);
    OFF("Run.FAIL_ENTRY_HARDWARE_REASON", kvm_run, fail_entry.hardware_entry_failure_reason);
    OFF("Run.FAIL_ENTRY_CPU", kvm_run, fail_entry.cpu);
    OFF("Run.INTERNAL_SUBERROR", kvm_run, internal.suberror);
    OFF("Run.INTERNAL_NDATA", kvm_run, internal.ndata);
    OFF("Run.INTERNAL_DATA", kvm_run, internal.data);
    N("Run.INTERNAL_DATA_MAX", sizeof(((struct kvm_run *)0)->internal.data) / sizeof(__u64));

    /* glibc's struct sigaction, used to install the vCPU kick handler */
    N("KickSignal.SIGACTION_SIZE", sizeof(struct sigaction));
    OFF("KickSignal.SA_HANDLER", sigaction, sa_handler);
    OFF("KickSignal.SA_MASK", sigaction, sa_mask);
    OFF("KickSignal.SA_FLAGS", sigaction, sa_flags);
    N("KickSignal.SIGNAL", SIGRTMIN + 3);
    return 0;
}
