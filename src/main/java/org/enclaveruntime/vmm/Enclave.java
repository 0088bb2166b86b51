package org.enclaveruntime.vmm;

import org.enclaveruntime.devices.DeviceBus;
import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.devices.HypercallPorts;
import org.enclaveruntime.devices.HypercallListener;
import org.enclaveruntime.devices.Serial8250;
import org.enclaveruntime.devices.virtio.VirtioMmio;
import org.enclaveruntime.kvm.KvmVcpu;
import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.vsock.VsockDevice;
import org.enclaveruntime.vsock.VsockSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * A running enclave VM: guest RAM, the KVM VM, one thread per vCPU and the devices. {@link VmBuilder#boot}
 * builds it and starts the vCPUs; it ends when the guest shuts down, panics or crashes, or when {@link #shutdown} or
 * {@link #close} stops it. Whatever ends it, the other vCPUs are kicked out of KVM_RUN and the VM stops.
 */
public final class Enclave implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Enclave.class);
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
    /** A device published work for the guest: the next WAIT returns at once (docs/guest-abi.md, "Notifications"). */
    private final AtomicBoolean workPending = new AtomicBoolean();
    private final GuestMemory memory;
    private final HypercallPorts power;
    /** Port 0x507: the module arena's pages (docs/module-runtime.md, section 1). */
    private final ModuleMemory modules;
    private final DeviceBus ports;
    private final DeviceBus mmio;
    private final NotifyEventFd notify;
    /** The virtio-vsock device and its bridge, or null for a VM without one. */
    private final VsockDevice vsock;
    private boolean closed;
    /** Why close() could not release guest RAM and the fds (a vCPU thread would not stop); null when it did. */
    private volatile String leftBehind;
    /** Guest RAM and the fds are gone: nothing may touch them (guarded by this). */
    private boolean released;

    /**
     * Wires the devices and one runner per vCPU around a VM that {@link VmBuilder} has set up; the vCPUs run
     * only after {@link #start}. From here on the enclave owns {@code resources} and releases them on close.
     */
    Enclave(VmSpec spec, long bootStartNanos, GuestMemory memory, GuestLayout.SystemArea layout, Serial8250 serial,
            GuestLog guestLog, NotifyEventFd notify, List<KvmVcpu> vcpus, List<AutoCloseable> resources) {
        this.spec = spec;
        this.bootStartNanos = bootStartNanos;
        this.memory = memory;
        this.notify = notify;
        this.resources.addAll(resources);
        power = new HypercallPorts(memory, new Power(), guestLog);
        ports = DeviceBus.ports(guestLog);
        ports.register(Serial8250.COM1, Serial8250.REGISTERS, "COM1", serial);
        ports.register(HypercallPorts.BASE, HypercallPorts.PORTS, "power", power);
        modules = new ModuleMemory(memory, layout, guestLog);
        ports.register(ModuleMemory.PORT, 1, "modmem", modules);
        mmio = DeviceBus.mmio(guestLog);
        vsock = spec.vsockSocket() == null ? null : attachVsock(spec, guestLog);
        for (KvmVcpu vcpu : vcpus) {
            int pin = spec.pinCpus().isEmpty() ? -1 : spec.pinCpus().get(vcpu.index());
            runners.add(new VcpuRunner(vcpu, ports, mmio, this, pin));
        }
    }

    /**
     * The virtio-vsock device in slot 0 of the device window, its bridge on the spec's socket. It is released
     * before guest RAM (resources go newest first): after its close no thread of it touches RAM.
     */
    private VsockDevice attachVsock(VmSpec spec, GuestLog guestLog) {
        VsockDevice device = new VsockDevice(memory, spec.cid(),
                VsockSettings.of(spec.vsockSocket(), spec.vsockGroup().orElse(null)), notify.fd(), this::wakeForWork,
                () -> markReady("the vsock handshake"), guestLog);
        resources.add(device);
        mmio.register(GuestLayout.deviceRegisters(spec.memoryBytes(), 0), GuestLayout.DEVICE_SLOT_SIZE,
                "virtio-vsock", new VirtioMmio("virtio-vsock", device, memory, guestLog));
        return device;
    }

    /** Starts the devices' threads, then every vCPU thread. */
    void start() {
        if (vsock != null) {
            vsock.start();
        }
        running.set(runners.size());
        for (VcpuRunner runner : runners) {
            runner.start();
        }
        LOG.debug("enclave started: {} vCPUs, {} MiB, set up in {} us", spec.vcpuCount(), spec.memoryBytes() >> 20,
                (System.nanoTime() - bootStartNanos) / 1000);
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
     * thread to stop (or at once on the caller's thread if it has already ended). Should a vCPU thread not end
     * at a shutdown, it is called when the shutdown gives up waiting for that thread, on the shutdown's thread.
     * Do not block in it; calling {@link #close()} from it is fine.
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
        if (requestShutdown()) {
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
        EnclaveExit how = awaitThreads();
        if (!ended.isDone() && !aliveThreads().isEmpty()) {
            // A vCPU thread that will not end (blocked outside KVM_RUN, where no kick reaches it) must not hold
            // the teardown forever: awaitExit() returns, and close() then finds the thread and leaves RAM alone.
            ended.complete(how);
        }
        return how;
    }

    /**
     * Sets the control page's shutdown flag and wakes idle vCPUs, unless the enclave has already ended or is
     * being torn down. Under the same monitor as {@link #releaseResources}: a stop racing with the guest's
     * own end must never write to guest RAM that close() has unmapped (that would bring the JVM down).
     */
    private synchronized boolean requestShutdown() {
        if (released || ended.isDone() || stopping) {
            return false;
        }
        shutdownRequested = true;
        memory.writeU32(GuestLayout.CONTROL_GPA + GuestLayout.CONTROL_SHUTDOWN_REQUESTED, 1);
        for (VcpuRunner r : runners) {
            r.wake();
        }
        return true;
    }

    /**
     * A device has put work into guest memory: wakes every vCPU blocked in WAIT, and makes the next WAIT return
     * at once (a vCPU that polled just before the work arrived and is about to WAIT must not sleep on it).
     * Set-then-wake, as for shutdown; a spurious wake-up costs the guest one more poll round.
     */
    public void wakeForWork() {
        workPending.set(true);
        for (VcpuRunner r : runners) {
            r.wake();
        }
    }

    /**
     * Stops an enclave that did not become ready in time and returns where each vCPU was, "vCPU 0: rip=...":
     * the one clue to a guest that hangs before READY. Empty for vCPUs whose thread would not stop.
     */
    public List<String> stopAndReadRegisters(String why) {
        end(new EnclaveExit.Failed(why));
        awaitThreads();
        List<String> where = new ArrayList<>();
        synchronized (this) {
            if (released) {
                return where;
            }
            for (VcpuRunner r : runners) {
                Thread t = r.thread();
                if (t != null && !t.isAlive()) {
                    where.add("vCPU " + r.index() + ": " + r.registers());
                }
            }
        }
        return where;
    }

    /** Blocks until the enclave has ended and every vCPU thread has finished. */
    public EnclaveExit awaitExit() {
        return ended.join();
    }

    /** How it ended, or null while it runs. */
    public EnclaveExit exitIfEnded() {
        return ended.getNow(null);
    }

    /** The REPORT values so far (see {@link HypercallPorts#reports()}). */
    public List<HypercallPorts.Report> reports() {
        return power.reports();
    }

    /** Bytes of guest RAM resident in host memory now (for benchmarks and status). */
    public long guestResidentBytes() {
        return memory.residentBytes();
    }

    /** 32-bit NOTIFY writes so far, all taken by the ioeventfd without an exit. */
    public long notifications() {
        return vsock != null ? vsock.notifications() : notify.count();
    }

    /** The vsock device, if the VM has one (for tests and status). */
    public Optional<VsockDevice> vsock() {
        return Optional.ofNullable(vsock);
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

    /**
     * Stops the vCPUs if they run, then zeroes and frees guest RAM and closes every fd. Idempotent. If a vCPU
     * thread does not end, nothing is released now ({@link #leftBehind()} says why): unmapping kvm_run or guest
     * RAM under a live vCPU thread would crash the JVM.
     */
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
        releaseOnceThreadsEnd();
    }

    /** Undoes a boot that failed part-way; vCPU threads already started (thread creation failed) are stopped first. */
    void abortBoot() {
        end(new EnclaveExit.Failed("boot failed"));
        awaitThreads();
        releaseOnceThreadsEnd();
    }

    /**
     * Why guest RAM was not scrubbed and the VM's fds not released at close (a vCPU thread that would not stop),
     * or empty when they were. A caller must not report such an enclave as stopped cleanly.
     */
    public Optional<String> leftBehind() {
        return Optional.ofNullable(leftBehind);
    }

    /**
     * Releases everything now if every vCPU thread has ended; otherwise records why not and leaves the release
     * to a thread that waits for them, as it becomes safe only then. Should they never end, the process exit
     * releases it all: the kernel tears the address space down only once every thread is gone.
     */
    private void releaseOnceThreadsEnd() {
        List<Thread> stuck = aliveThreads();
        if (stuck.isEmpty()) {
            releaseResources();
            return;
        }
        leftBehind = "vCPU thread " + stuck.get(0).getName() + " did not stop within " + JOIN_TIMEOUT.toSeconds()
                + " s, so guest RAM was not scrubbed; it and the VM's fds are released when the thread ends or the "
                + "VMM process exits";
        LOG.error("{}", leftBehind);
        Thread reaper = new Thread(() -> {
            for (Thread t : stuck) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    return; // the process is ending; its exit releases everything
                }
            }
            LOG.info("the stuck vCPU threads have ended; scrubbing and releasing guest RAM now");
            releaseResources();
        }, "vcpu-reaper");
        reaper.setDaemon(true);
        reaper.start();
    }

    /** vCPU threads still alive, other than the caller's (an onExit listener runs on the last vCPU thread). */
    private List<Thread> aliveThreads() {
        List<Thread> alive = new ArrayList<>();
        for (VcpuRunner r : runners) {
            Thread t = r.thread();
            if (t != null && t.isAlive() && t != Thread.currentThread()) {
                alive.add(t);
            }
        }
        return alive;
    }

    private synchronized void releaseResources() {
        released = true;
        VmBuilder.release(resources);
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

    /**
     * The enclave is READY: the vsock handshake (docs/guest-abi.md, "Ready handshake") or, for test guests
     * without vsock, the status port; whichever comes first counts, repeats cost nothing.
     */
    void markReady(String how) {
        if (ready.isDone()) {
            return; // not even the Duration below
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - bootStartNanos);
        if (ready.complete(elapsed)) {
            LOG.info("enclave ready after {} ms (through {})", elapsed.toNanos() / 1e6, how);
        }
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

    /** " in module <tag> (MRENCLAVE ...) at module offset 0x..." when rip is in module code, else "". */
    String moduleAt(long rip) {
        return modules.attribution(rip);
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

    private final class Power implements HypercallListener {
        @Override
        public void ready(int vcpu) {
            markReady("the status port");
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
            end(new EnclaveExit.Panicked(message)); // the message is logged through the GuestLog
        }

        /**
         * FAULT: the stub's frame names the exception. A write that did not come from the stub (ring 3 can
         * write any port) finds no matching frame, since ring 3 cannot write the fault stack, and says so.
         */
        @Override
        public void fault(int vcpu, long vector) {
            GuestFault fault = GuestFault.read(memory, vcpu);
            if (fault.isFromStub(vector)) {
                crashed(vcpu, fault.describe() + modules.attribution(fault.rip()), fault.registers());
            } else {
                crashed(vcpu, "the guest wrote 0x" + Long.toHexString(vector) + " to the FAULT port outside the"
                        + " fault stub", "(none: no fault frame)");
            }
        }

        /**
         * WAIT. The guest checks the control page and then writes WAIT; a shutdown requested in between must
         * not be lost. LockSupport's permit gives that: shutdown() sets the flag and then unparks, so a park
         * after the unpark returns at once, and a park before it is woken.
         */
        @Override
        public void idle(int vcpu) {
            if (!shutdownRequested && !stopping && !workPending.getAndSet(false)) {
                LockSupport.park(Enclave.this);
                workPending.set(false);
            }
        }
    }
}
