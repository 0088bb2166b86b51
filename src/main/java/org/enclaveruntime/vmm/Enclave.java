package org.enclaveruntime.vmm;

import org.enclaveruntime.devices.DeviceBus;
import org.enclaveruntime.devices.PowerDevice;
import org.enclaveruntime.devices.PowerListener;
import org.enclaveruntime.devices.Serial8250;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.kvm.CpuidTable;
import org.enclaveruntime.kvm.Kvm;
import org.enclaveruntime.kvm.KvmAbi;
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
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * A running enclave VM: guest RAM, the KVM VM, one thread per vCPU and the devices. {@link #boot} builds it
 * and starts the vCPUs; it ends when the guest shuts down, panics or crashes, or when {@link #shutdown} or
 * {@link #close} stops it. Whatever ends it, the other vCPUs are kicked out of KVM_RUN and the VM stops.
 */
public final class Enclave implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Enclave.class);
    private static final int MAX_VCPUS = 255;
    private static final long MIN_RAM = 4L << 20;
    private static final long RAM_ALIGN = 2L << 20;
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(5);

    private final long bootStartNanos;
    private final VmSpec spec;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<VcpuRunner> runners = new ArrayList<>();
    private final AtomicReference<EnclaveExit> exit = new AtomicReference<>();
    private final CompletableFuture<Duration> ready = new CompletableFuture<>();
    private final CompletableFuture<EnclaveExit> ended = new CompletableFuture<>();
    private final AtomicInteger running = new AtomicInteger();
    private volatile boolean stopping;
    private volatile boolean shutdownRequested;
    private GuestMemory memory;
    private PowerDevice power;
    private DeviceBus ports;
    private DeviceBus mmio;
    private boolean closed;

    private Enclave(VmSpec spec, long bootStartNanos) {
        this.spec = spec;
        this.bootStartNanos = bootStartNanos;
    }

    /**
     * Creates the VM, loads the runtime, sets up every vCPU per docs/guest-abi.md and starts the vCPU
     * threads; returns at once. Nothing is left behind when it throws.
     *
     * @throws EnclaveException for invalid settings, an invalid runtime ELF, or KVM/memory failures
     */
    public static Enclave boot(VmSpec spec) {
        long start = System.nanoTime();
        validate(spec);
        RuntimeElf elf = RuntimeElf.parse(spec.runtimeElf(), GuestLayout.IMAGE_GPA,
                GuestLayout.stacksBottom(spec.memoryBytes(), spec.vcpuCount()));
        Enclave enclave = new Enclave(spec, start);
        try {
            enclave.build(elf);
        } catch (RuntimeException | Error e) {
            enclave.abortBoot();
            throw e;
        }
        return enclave;
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

    private void build(RuntimeElf elf) {
        KickSignal.install();
        Kvm kvm = Kvm.open();
        resources.add(kvm);
        KvmVm vm = kvm.createVm();
        resources.add(vm);
        memory = GuestMemory.create(spec.memoryBytes(), spec.backing());
        resources.add(memory);
        memory.registerWith(vm, 0);

        elf.load(memory);
        GuestLayout.writeGdt(memory);
        GuestLayout.writeTss(memory);
        GuestLayout.writePageTables(memory, spec.memoryBytes());
        GuestLayout.writeBootInfo(memory, spec.vcpuCount(), spec.debug(), spec.memoryBytes(), elf.imageEnd(),
                spec.cid());

        Serial8250 serial = new Serial8250(openConsole());
        resources.add(serial);
        power = new PowerDevice(memory, new Power());
        ports = DeviceBus.ports();
        ports.register(Serial8250.COM1, Serial8250.REGISTERS, "COM1", serial);
        ports.register(PowerDevice.BASE, PowerDevice.PORTS, "power", power);
        mmio = DeviceBus.mmio();

        CpuidTable cpuid = kvm.supportedCpuid();
        List<KvmVcpu> vcpus = new ArrayList<>();
        for (int i = 0; i < spec.vcpuCount(); i++) {
            KvmVcpu vcpu = vm.createVcpu(i);
            resources.add(vcpu);
            vcpu.setCpuid(cpuidFor(cpuid, i));
            setEntryState(vcpu, elf.entry(), spec.memoryBytes());
            vcpus.add(vcpu);
        }
        for (KvmVcpu vcpu : vcpus) {
            int pin = spec.pinCpus().isEmpty() ? -1 : spec.pinCpus().get(vcpu.index());
            runners.add(new VcpuRunner(vcpu, ports, mmio, this, pin));
        }
        running.set(runners.size());
        for (VcpuRunner runner : runners) {
            runner.start();
        }
        LOG.debug("enclave booted: {} vCPUs, {} MiB, entry 0x{}, set up in {} us", spec.vcpuCount(),
                spec.memoryBytes() >> 20, Long.toHexString(elf.entry()), (System.nanoTime() - bootStartNanos) / 1000);
    }

    /** The console log, only in debug mode: without debug the guest is not trusted to stay silent. */
    private OutputStream openConsole() {
        if (spec.consoleLog() == null || !spec.debug()) {
            return null;
        }
        try {
            return new BufferedOutputStream(Files.newOutputStream(spec.consoleLog(), StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE));
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

    /** The entry state of docs/guest-abi.md: 64-bit mode at CPL 3, flat segments, TSS, stack, rdi/rsi. */
    static void setEntryState(KvmVcpu vcpu, long entry, long ramSize) {
        KvmSregs s = new KvmSregs();
        vcpu.getSregs(s);
        KvmSregs.Segment code = new KvmSregs.Segment(0, 0xffffffff, GuestLayout.SELECTOR_CODE3, 11, 3, false, true);
        KvmSregs.Segment data = new KvmSregs.Segment(0, 0xffffffff, GuestLayout.SELECTOR_DATA3, 3, 3, true, false);
        s.setSegment(KvmAbi.Sregs.CS, code);
        for (int seg : new int[] {KvmAbi.Sregs.DS, KvmAbi.Sregs.ES, KvmAbi.Sregs.FS, KvmAbi.Sregs.GS, KvmAbi.Sregs.SS}) {
            s.setSegment(seg, data);
        }
        s.setTable(KvmAbi.Sregs.GDT, GuestLayout.GDT_GPA, GuestLayout.GDT_LIMIT);
        s.setTaskRegister(GuestLayout.TSS_GPA, GuestLayout.TSS_LIMIT, GuestLayout.SELECTOR_TSS);
        s.setTable(KvmAbi.Sregs.IDT, 0, 0); // no IDT on purpose: any exception is a triple fault
        s.set(KvmAbi.Sregs.CR0, 0x80050033L); // PE MP ET NE WP AM PG
        s.set(KvmAbi.Sregs.CR3, 0x10000L);
        s.set(KvmAbi.Sregs.CR4, 0x20L); // PAE
        s.set(KvmAbi.Sregs.EFER, 0x500L); // LME LMA
        vcpu.setSregs(s);

        KvmRegs r = new KvmRegs();
        r.set(KvmAbi.Regs.RIP, entry);
        r.set(KvmAbi.Regs.RSP, GuestLayout.stackTop(ramSize, vcpu.index()));
        r.set(KvmAbi.Regs.RFLAGS, 0x3002L); // IOPL 3, reserved bit 1
        r.set(KvmAbi.Regs.RDI, vcpu.index());
        r.set(KvmAbi.Regs.RSI, GuestLayout.BOOT_INFO_GPA);
        vcpu.setRegs(r);
    }

    // ---- lifecycle -------------------------------------------------------------------------------------

    /** READY, or the exit that happened first, or a timeout (the enclave keeps running then). */
    public ReadyResult awaitReady(Duration timeout) {
        try {
            CompletableFuture.anyOf(ready, ended).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return new ReadyResult.TimedOut(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ReadyResult.TimedOut(timeout);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
        if (ready.isDone()) {
            return new ReadyResult.Ready(ready.join());
        }
        return new ReadyResult.Ended(ended.join());
    }

    /**
     * Called once with how the enclave ended, after every vCPU thread has left KVM_RUN: on the last vCPU
     * thread to stop (or at once on the caller's thread if it has already ended). Do not block in it; calling
     * {@link #close()} from it is fine.
     */
    public void onExit(Consumer<EnclaveExit> listener) {
        ended.thenAccept(listener);
    }

    /**
     * Asks the guest to shut down (control page + waking idle vCPUs), waits up to {@code grace} for it to
     * write SHUTDOWN, then kicks the vCPUs out of KVM_RUN. Returns how the enclave ended; the vCPU threads
     * have ended when it returns.
     */
    public EnclaveExit shutdown(Duration grace) {
        if (!ended.isDone() && !stopping) {
            shutdownRequested = true;
            memory.writeU32(GuestLayout.CONTROL_GPA + GuestLayout.CONTROL_SHUTDOWN_REQUESTED, 1);
            for (VcpuRunner r : runners) {
                r.wake();
            }
            try {
                ended.get(grace.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                LOG.warn("the enclave did not shut down within {} ms; stopping its vCPUs", grace.toMillis());
                end(new EnclaveExit.Stopped(true));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                end(new EnclaveExit.Stopped(true));
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
        return awaitThreads();
    }

    /** Blocks until the enclave has ended and every vCPU thread has finished. */
    public EnclaveExit awaitExit() {
        return ended.join();
    }

    /** How it ended, or null while it runs. */
    public EnclaveExit exitIfEnded() {
        return ended.getNow(null);
    }

    /** The REPORT values so far (see {@link PowerDevice#reports()}). */
    public List<PowerDevice.Report> reports() {
        return power.reports();
    }

    /** Bytes of guest RAM resident in host memory now (for benchmarks and status). */
    public long guestResidentBytes() {
        return memory.residentBytes();
    }

    /** Unclaimed port and MMIO accesses so far. */
    public long unclaimedAccesses() {
        return ports.unclaimedAccesses() + mmio.unclaimedAccesses();
    }

    /** The vCPU threads (for tests and diagnostics). */
    public List<Thread> vcpuThreads() {
        List<Thread> threads = new ArrayList<>();
        for (VcpuRunner r : runners) {
            threads.add(r.thread());
        }
        return threads;
    }

    /** Stops the vCPUs if they run, then zeroes and frees guest RAM and closes every fd. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!ended.isDone()) {
            end(new EnclaveExit.Stopped(true));
        }
        awaitThreads();
        for (VcpuRunner r : runners) {
            if (r.thread().isAlive() && r.thread() != Thread.currentThread()) {
                // Unmapping kvm_run or guest RAM under a live vCPU thread would crash the JVM: leak instead.
                LOG.error("vCPU thread {} did not end; its resources are not released", r.thread().getName());
                return;
            }
        }
        releaseResources();
    }

    /** Undoes a boot that failed part-way; vCPU threads already started (thread creation failed) are stopped first. */
    private void abortBoot() {
        end(new EnclaveExit.Failed("boot failed"));
        awaitThreads();
        for (VcpuRunner r : runners) {
            Thread t = r.thread();
            if (t != null && t.isAlive()) {
                LOG.error("vCPU thread {} did not end; its resources are not released", t.getName());
                return;
            }
        }
        releaseResources();
    }

    private void releaseResources() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                LOG.warn("releasing {} failed: {}", resources.get(i), e.toString());
            }
        }
        resources.clear();
    }

    private EnclaveExit awaitThreads() {
        long deadline = System.nanoTime() + JOIN_TIMEOUT.toNanos();
        for (VcpuRunner r : runners) {
            Thread t = r.thread();
            if (t == Thread.currentThread()) {
                continue; // an onExit listener on the last vCPU thread: that thread is past its KVM_RUN loop
            }
            while (t != null && t.isAlive() && System.nanoTime() < deadline) {
                r.kickIfStopping(stopping);
                try {
                    t.join(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return ended.getNow(exit.get());
    }

    // ---- called by vCPU threads and devices --------------------------------------------------------------

    boolean stopping() {
        return stopping;
    }

    /** Records how the enclave ended (the first reason wins) and stops every vCPU. */
    void end(EnclaveExit reason) {
        if (exit.compareAndSet(null, reason)) {
            stopping = true;
            for (VcpuRunner r : runners) {
                r.kick();
            }
        }
    }

    void crashed(int vcpu, String reason, String registers) {
        LOG.error("enclave crashed on vCPU {}: {}; registers: {}", vcpu, reason, registers);
        end(new EnclaveExit.Crashed(reason, vcpu, registers));
    }

    void failed(int vcpu, String reason) {
        LOG.error("vCPU {} failed: {}", vcpu, reason);
        end(new EnclaveExit.Failed(reason));
    }

    void failed(int vcpu, Throwable t) {
        LOG.error("vCPU {} failed", vcpu, t);
        end(new EnclaveExit.Failed("vCPU " + vcpu + ": " + t));
    }

    void vcpuEnded(int vcpu) {
        if (running.decrementAndGet() == 0) {
            EnclaveExit how = exit.get();
            if (how == null) {
                how = new EnclaveExit.Failed("every vCPU stopped without a reason");
                exit.compareAndSet(null, how);
                how = exit.get();
            }
            LOG.info("enclave ended: {}", how);
            ended.complete(how);
        }
    }

    private final class Power implements PowerListener {
        @Override
        public void ready(int vcpu) {
            Duration elapsed = Duration.ofNanos(System.nanoTime() - bootStartNanos);
            if (ready.complete(elapsed)) {
                LOG.info("enclave ready after {} ms", elapsed.toNanos() / 1e6);
            }
        }

        @Override
        public void shutdown(int vcpu, int code) {
            if (shutdownRequested) {
                LOG.info("enclave shut down on request (exit code {})", code);
                end(new EnclaveExit.Stopped(false));
            } else {
                end(new EnclaveExit.CleanShutdown(code));
            }
        }

        @Override
        public void panic(int vcpu, String message) {
            LOG.error("enclave panicked on vCPU {}: {}", vcpu, message);
            end(new EnclaveExit.Panicked(message));
        }

        /**
         * WAIT. The guest checks the control page and then writes WAIT; a shutdown requested in between must
         * not be lost. LockSupport's permit gives that: shutdown() sets the flag and then unparks, so a park
         * after the unpark returns at once, and a park before it is woken.
         */
        @Override
        public void idle(int vcpu) {
            if (!shutdownRequested && !stopping) {
                LockSupport.park(Enclave.this);
            }
        }
    }
}
