package org.enclaveruntime.vmm;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.enclaveruntime.devices.DeviceBus;
import org.enclaveruntime.kvm.KvmAbi;
import org.enclaveruntime.kvm.KvmRegs;
import org.enclaveruntime.kvm.KvmVcpu;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

/**
 * The KVM_RUN loop of one vCPU, on its own thread {@code vcpu-<n>}. Port and MMIO exits go to the buses;
 * every other exit ends the enclave. Handling an exit allocates nothing.
 */
final class VcpuRunner implements Runnable {
    private static final int CPU_MASK_BYTES = 128;

    private final KvmVcpu vcpu;
    private final int index;
    private final DeviceBus ports;
    private final DeviceBus mmio;
    private final Enclave enclave;
    private final int pinCpu;
    private volatile int tid;
    private volatile boolean inLoop;
    private volatile Thread thread;

    VcpuRunner(KvmVcpu vcpu, DeviceBus ports, DeviceBus mmio, Enclave enclave, int pinCpu) {
        this.vcpu = vcpu;
        this.index = vcpu.index();
        this.ports = ports;
        this.mmio = mmio;
        this.enclave = enclave;
        this.pinCpu = pinCpu;
    }

    Thread start() {
        Thread t = new Thread(this, "vcpu-" + index);
        t.setDaemon(true);
        thread = t;
        t.start();
        return t;
    }

    Thread thread() {
        return thread;
    }

    @Override
    public void run() {
        tid = Native.gettid();
        inLoop = true;
        try {
            if (pinCpu >= 0 && !pin()) {
                return;
            }
            while (!enclave.stopping()) {
                if (!vcpu.run()) {
                    continue;
                }
                int reason = vcpu.exitReason();
                if (reason == KvmAbi.KVM_EXIT_IO) {
                    handlePort();
                } else if (reason == KvmAbi.KVM_EXIT_MMIO) {
                    handleMmio();
                } else if (reason != KvmAbi.KVM_EXIT_INTR) {
                    enclave.crashed(index, describe(reason) + inModule(reason), vcpu.describeRegisters());
                    return;
                }
            }
        } catch (Throwable t) {
            enclave.failed(index, t);
        } finally {
            inLoop = false;
            enclave.vcpuEnded(index);
        }
    }

    private void handlePort() {
        int port = vcpu.ioPort();
        int size = vcpu.ioSize();
        int count = vcpu.ioCount();
        if (vcpu.ioDirection() == KvmAbi.KVM_EXIT_IO_OUT) {
            for (int i = 0; i < count; i++) {
                ports.write(index, port, size, vcpu.ioData(i));
            }
        } else {
            for (int i = 0; i < count; i++) {
                vcpu.setIoData(i, ports.read(index, port, size));
            }
        }
    }

    private void handleMmio() {
        long address = vcpu.mmioAddress();
        int length = vcpu.mmioLength();
        if (vcpu.mmioIsWrite()) {
            mmio.write(index, address, length, vcpu.mmioData());
        } else {
            vcpu.setMmioData(mmio.read(index, address, length));
        }
    }

    /** Where a triple fault happened, if in module code (docs/module-runtime.md, "Crash attribution"). */
    private String inModule(int reason) {
        if (reason != KvmAbi.KVM_EXIT_SHUTDOWN) {
            return "";
        }
        KvmRegs regs = new KvmRegs();
        vcpu.getRegs(regs);
        return enclave.moduleAt(regs.get(KvmAbi.Regs.RIP));
    }

    private String describe(int reason) {
        switch (reason) {
            case KvmAbi.KVM_EXIT_SHUTDOWN:
                return "triple fault";
            case KvmAbi.KVM_EXIT_INTERNAL_ERROR: {
                StringBuilder b = new StringBuilder("KVM internal error, suberror ").append(vcpu.internalSuberror());
                switch (vcpu.internalSuberror()) {
                    case 1 -> b.append(" (emulation failure)");
                    case 2 -> b.append(" (exception during exception delivery)");
                    case 3 -> b.append(" (event delivery failed)");
                    case 4 -> b.append(" (unexpected exit reason)");
                    default -> { }
                }
                int n = vcpu.internalDataCount();
                for (int i = 0; i < n; i++) {
                    b.append(i == 0 ? ", data " : " ").append("0x").append(Long.toHexString(vcpu.internalData(i)));
                }
                return b.toString();
            }
            case KvmAbi.KVM_EXIT_FAIL_ENTRY:
                return "VM entry failed, hardware reason 0x" + Long.toHexString(vcpu.failEntryHardwareReason())
                        + " on host CPU " + vcpu.failEntryCpu();
            case KvmAbi.KVM_EXIT_HLT:
                return "unexpected exit: HLT";
            case KvmAbi.KVM_EXIT_EXCEPTION:
                return "unexpected exit: exception";
            default:
                return "unexpected exit reason " + reason;
        }
    }

    /** Pins this thread to its host CPU before the first KVM_RUN. */
    private boolean pin() {
        Pointer mask = Memory.allocateDirect(Runtime.getSystemRuntime(), CPU_MASK_BYTES, true);
        mask.putByte(pinCpu / 8, (byte) (1 << (pinCpu % 8)));
        if (LibC.INSTANCE.sched_setaffinity(0, CPU_MASK_BYTES, mask) != 0) {
            enclave.failed(index, "cannot pin vCPU " + index + " to host CPU " + pinCpu + ": "
                    + Native.describe(Native.errno()));
            return false;
        }
        return true;
    }

    /** Makes KVM_RUN return now and keeps it from running again. Safe from any thread. */
    void kick() {
        vcpu.requestImmediateExit();
        Thread t = thread;
        if (t != null) {
            java.util.concurrent.locks.LockSupport.unpark(t);
        }
        int id = tid;
        if (inLoop && id != 0) {
            KickSignal.send(id);
        }
    }

    void kickIfStopping(boolean stopping) {
        if (stopping) {
            kick();
        }
    }

    /** The vCPU's registers, for a report; only once its thread has left KVM_RUN for good. */
    String registers() {
        return vcpu.describeRegisters();
    }

    int index() {
        return index;
    }

    void wake() {
        Thread t = thread;
        if (t != null) {
            java.util.concurrent.locks.LockSupport.unpark(t);
        }
    }
}
