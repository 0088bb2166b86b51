package org.enclaveruntime.vmm;

import org.enclaveruntime.devices.CappedLogFile;
import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.devices.HypercallPorts;
import org.enclaveruntime.devices.Serial8250;
import org.enclaveruntime.devices.virtio.VirtioMmio;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.image.RuntimeElf;
import org.enclaveruntime.kvm.CpuidTable;
import org.enclaveruntime.kvm.Kvm;
import org.enclaveruntime.kvm.KvmAbi;
import org.enclaveruntime.kvm.KvmFpu;
import org.enclaveruntime.kvm.KvmRegs;
import org.enclaveruntime.kvm.KvmSregs;
import org.enclaveruntime.kvm.KvmVcpu;
import org.enclaveruntime.kvm.KvmVm;
import org.enclaveruntime.memory.GuestMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds an enclave VM from a {@link VmSpec}: checks the spec, creates the KVM VM and guest RAM, loads the
 * runtime, lays out GDT, TSS, page tables and boot info, sets every vCPU's entry state per
 * docs/guest-abi.md, and hands the result to a running {@link Enclave}. Whatever fails, nothing is left behind.
 */
public final class VmBuilder {
    private static final Logger LOG = LoggerFactory.getLogger(VmBuilder.class);
    private static final int MAX_VCPUS = 255;
    private static final long MIN_RAM = 4L << 20;
    private static final long RAM_ALIGN = 2L << 20;
    /** console.log is rolled to console.log.1 at this size: a guest printing forever fills 512 KiB at most. */
    public static final long CONSOLE_LOG_CAP = 256L << 10;

    private VmBuilder() {
    }

    /**
     * Creates the VM, loads the runtime, sets up every vCPU and starts the vCPU threads; returns at once.
     *
     * @throws EnclaveException for invalid settings, an invalid runtime ELF, or KVM/memory failures
     */
    public static Enclave boot(VmSpec spec) {
        long start = System.nanoTime();
        validate(spec);
        RuntimeElf elf = RuntimeElf.parse(ByteBuffer.wrap(spec.runtimeElf()), "the runtime ELF")
                .requireFits(spec.memoryBytes(), GuestLayout.stacksBottom(spec.memoryBytes(), spec.vcpuCount()));
        List<AutoCloseable> resources = new ArrayList<>();
        Enclave enclave = null;
        try {
            enclave = build(spec, elf, start, resources);
            enclave.start();
            LOG.debug("entry 0x{}", Long.toHexString(elf.entry()));
            return enclave;
        } catch (RuntimeException | Error e) {
            if (enclave != null) {
                enclave.abortBoot();
            } else {
                release(resources);
            }
            throw e;
        }
    }

    private static Enclave build(VmSpec spec, RuntimeElf elf, long start, List<AutoCloseable> resources) {
        KickSignal.install();
        Kvm kvm = Kvm.open(spec.kvmDevice());
        resources.add(kvm);
        KvmVm vm = kvm.createVm();
        resources.add(vm);
        NotifyEventFd notify = NotifyEventFd.register(vm, HypercallPorts.NOTIFY_PORT);
        resources.add(notify);
        GuestMemory memory = GuestMemory.create(spec.memoryBytes(), spec.backing());
        resources.add(memory);
        memory.registerWith(vm, 0);

        RuntimeLoader.load(elf, memory);
        GuestLayout.SystemArea layout = GuestLayout.writeSystemArea(memory, spec.vcpuCount(), spec.debug(),
                spec.memoryBytes(), elf, spec.cid());
        if (spec.vsockSocket() != null) {
            GuestLayout.listDevices(memory, spec.memoryBytes(), List.of(GuestLayout.DEVICE_TYPE_VSOCK));
            // A Linux driver's QueueNotify then costs no exit either, like the runtime's NOTIFY port.
            vm.addMmioEventFd(GuestLayout.deviceRegisters(spec.memoryBytes(), 0) + VirtioMmio.QUEUE_NOTIFY, 4,
                    notify.fd());
        }

        // Closed after the devices that write to it (resources go in reverse order), so it says everything.
        GuestLog guestLog = new GuestLog();
        resources.add(guestLog);
        Serial8250 serial = new Serial8250(openConsole(spec), guestLog);
        resources.add(serial);

        CpuidTable cpuid = kvm.supportedCpuid();
        List<KvmVcpu> vcpus = new ArrayList<>();
        for (int i = 0; i < spec.vcpuCount(); i++) {
            KvmVcpu vcpu = vm.createVcpu(i);
            resources.add(vcpu);
            vcpu.setCpuid(cpuidFor(cpuid, i));
            setEntryState(vcpu, spec.vcpuCount(), elf.entry(), spec.memoryBytes());
            vcpus.add(vcpu);
        }
        return new Enclave(spec, start, memory, layout, serial, guestLog, notify, vcpus, resources);
    }

    /** Closes {@code resources} newest first, logging (not throwing) a close that fails; leaves the list empty. */
    static void release(List<AutoCloseable> resources) {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                LOG.warn("releasing {} failed: {}", resources.get(i), e.toString());
            }
        }
        resources.clear();
    }

    private static void validate(VmSpec s) {
        if (s.vcpuCount() < 1 || s.vcpuCount() > MAX_VCPUS) {
            throw invalid("vCPU count " + s.vcpuCount() + " is outside 1.." + MAX_VCPUS);
        }
        long ram = s.memoryBytes();
        if (ram < MIN_RAM || ram > GuestLayout.MAX_RAM || ram % RAM_ALIGN != 0) {
            throw invalid("memory size " + ram + " bytes must be a multiple of 2 MiB between 4 MiB and "
                    + (GuestLayout.MAX_RAM >> 20) + " MiB");
        }
        if (s.backing() == null || ram % s.backing().pageSize() != 0) {
            throw invalid("memory size " + ram + " bytes is not a multiple of the page size of " + s.backing());
        }
        if (GuestLayout.stacksBottom(ram, s.vcpuCount()) <= GuestLayout.IMAGE_GPA + RAM_ALIGN) {
            throw invalid("memory size " + ram + " bytes leaves no room for the runtime next to "
                    + s.vcpuCount() + " vCPU stacks");
        }
        if (s.cid() < 3 || s.cid() > 0xFFFF_FFFEL) {
            throw invalid("vsock CID " + s.cid() + " is outside 3..4294967294");
        }
        if (!s.pinCpus().isEmpty() && s.pinCpus().size() != s.vcpuCount()) {
            throw invalid("CPU list " + s.pinCpus() + " has " + s.pinCpus().size() + " entries for "
                    + s.vcpuCount() + " vCPUs");
        }
        for (int cpu : s.pinCpus()) {
            if (cpu < 0 || cpu >= 1024) {
                throw invalid("host CPU " + cpu + " in the CPU list is outside 0..1023");
            }
        }
    }

    private static EnclaveException invalid(String message) {
        return new EnclaveException(VmmErrors.INVALID_VM_SPEC, message);
    }

    /** The console log, only in debug mode: without debug the guest is not trusted to stay silent. */
    private static OutputStream openConsole(VmSpec spec) {
        if (spec.consoleLog() == null || !spec.debug()) {
            return null;
        }
        try {
            return new BufferedOutputStream(CappedLogFile.open(spec.consoleLog(), CONSOLE_LOG_CAP));
        } catch (IOException e) {
            throw new EnclaveException(GeneralErrors.IO, "cannot open the console log " + spec.consoleLog() + ": "
                    + e.getMessage(), e);
        }
    }

    /** The host's CPUID with this vCPU's APIC id in leaf 1 (EBX[31:24]) and leaf 0xB (EDX). */
    private static CpuidTable cpuidFor(CpuidTable supported, int index) {
        CpuidTable table = supported.copy();
        for (int e = 0; e < table.count(); e++) {
            if (table.function(e) == 1) {
                table.setEbx(e, (table.ebx(e) & 0x00ffffff) | (index << 24));
            } else if (table.function(e) == 0xb) {
                table.setEdx(e, index);
            }
        }
        return table;
    }

    /** CR4 at entry: PAE, and OSFXSR | OSXMMEXCPT so that module code may use SSE (not OSXSAVE: no AVX). */
    static final long ENTRY_CR4 = 0x20L | 0x200L | 0x400L;
    /** The x87 control word and MXCSR at entry: FNINIT's and the reset value, every exception masked. */
    static final int ENTRY_FCW = 0x37f;
    static final int ENTRY_MXCSR = 0x1f80;

    /**
     * The entry state of docs/guest-abi.md: 64-bit mode at CPL 3, flat segments, this vCPU's TSS, the IDT of
     * the fault stub, NX enabled, SSE enabled, stack, rdi/rsi.
     */
    static void setEntryState(KvmVcpu vcpu, int vcpus, long entry, long ramSize) {
        KvmSregs s = new KvmSregs();
        vcpu.getSregs(s);
        entrySregs(s, vcpus, vcpu.index());
        vcpu.setSregs(s);
        vcpu.setFpu(entryFpu());

        KvmRegs r = new KvmRegs();
        r.set(KvmAbi.Regs.RIP, entry);
        r.set(KvmAbi.Regs.RSP, GuestLayout.stackTop(ramSize, vcpu.index()));
        r.set(KvmAbi.Regs.RFLAGS, 0x3002L); // IOPL 3, reserved bit 1
        r.set(KvmAbi.Regs.RDI, vcpu.index());
        r.set(KvmAbi.Regs.RSI, GuestLayout.BOOT_INFO_GPA);
        vcpu.setRegs(r);
    }

    /** Fills the segment, table and control registers of vCPU {@code index}'s entry state into {@code s}. */
    static void entrySregs(KvmSregs s, int vcpus, int index) {
        KvmSregs.Segment code = new KvmSregs.Segment(0, 0xffffffff, GuestLayout.SELECTOR_CODE3, 11, 3, false, true);
        KvmSregs.Segment data = new KvmSregs.Segment(0, 0xffffffff, GuestLayout.SELECTOR_DATA3, 3, 3, true, false);
        s.setSegment(KvmAbi.Sregs.CS, code);
        for (int seg : new int[] {KvmAbi.Sregs.DS, KvmAbi.Sregs.ES, KvmAbi.Sregs.FS, KvmAbi.Sregs.GS, KvmAbi.Sregs.SS}) {
            s.setSegment(seg, data);
        }
        s.setTable(KvmAbi.Sregs.GDT, GuestLayout.GDT_GPA, GuestLayout.gdtLimit(vcpus));
        s.setTaskRegister(GuestLayout.tss(index), GuestLayout.tssLimit(index), GuestLayout.tssSelector(index));
        s.setTable(KvmAbi.Sregs.IDT, GuestLayout.IDT_GPA, GuestLayout.IDT_LIMIT);
        s.set(KvmAbi.Sregs.CR0, 0x80050033L); // PE MP ET NE WP AM PG; WP: ring 0 honours read-only pages too
        s.set(KvmAbi.Sregs.CR3, GuestLayout.PAGE_TABLES_GPA);
        s.set(KvmAbi.Sregs.CR4, ENTRY_CR4);
        s.set(KvmAbi.Sregs.EFER, 0xd00L); // LME LMA NXE
    }

    /** A clean x87/SSE state: empty register stack, zero XMM registers, every exception masked. */
    static KvmFpu entryFpu() {
        KvmFpu f = new KvmFpu();
        f.setControlWord(ENTRY_FCW);
        f.setMxcsr(ENTRY_MXCSR);
        return f;
    }
}
