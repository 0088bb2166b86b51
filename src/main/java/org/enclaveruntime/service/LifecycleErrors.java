package org.enclaveruntime.service;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/** E45x: starting, running and stopping the enclave as a service. */
public final class LifecycleErrors {
    private LifecycleErrors() {
    }

    public static final ErrorCode CONTROL = new ErrorCode("E450", ExitStatus.FAILURE,
            "the VMM refused a control request",
            "Check log_dir/enclavectl.log; if the enclave is stuck, use `enclavectl stop --force`.",
            "The CLI talks to the running VMM through run_dir/control.sock. The VMM answered with an error; "
                    + "the message quotes it.");

    public static final ErrorCode BOOT_TIMEOUT = new ErrorCode("E451", ExitStatus.ENCLAVE,
            "the enclave did not become ready in time",
            "Raise boot_timeout in [enclave], or start with --debug and read `enclavectl console`.",
            "After the VMM starts the vCPUs, the enclave runtime reports READY once every vCPU is online. It "
                    + "did not within boot_timeout; the VMM stopped it and gave back its memory and CPUs.");

    public static final ErrorCode BOOT_FAILED = new ErrorCode("E452", ExitStatus.ENCLAVE,
            "the enclave failed while booting",
            "Start with --debug and read `enclavectl console`; check that the image is the one you meant.",
            "The enclave ended before it reported READY: it crashed (a CPU fault in the guest, named with its "
                    + "rip and cr2, or a triple fault), panicked with a message, or exited. The message says "
                    + "which; log_dir/enclavectl.log has the registers of the failing vCPU.");

    public static final ErrorCode CRASHED = new ErrorCode("E453", ExitStatus.ENCLAVE,
            "the enclave crashed",
            "Read log_dir/enclavectl.log (registers of the failing vCPU) and, in debug mode, the console; "
                    + "then `enclavectl start` again.",
            "The running enclave ended without being asked to: a CPU fault (#PF, #GP, ...), a triple fault, a KVM error, or a "
                    + "panic of the enclave runtime. The VMM gave back its memory and CPUs and exited.");

    public static final ErrorCode STOP_TIMEOUT = new ErrorCode("E454", ExitStatus.ENCLAVE,
            "the VMM did not stop in time",
            "Use `enclavectl stop --force`, which kills the VMM and cleans up after it.",
            "`stop` asked the VMM to shut the enclave down and waited; the VMM process is still alive.");

    public static final ErrorCode DAEMON = new ErrorCode("E455", ExitStatus.ENCLAVE,
            "the VMM process failed to start",
            "Run `enclavectl start --foreground -v` to see what the VMM does, and read log_dir/enclavectl.log.",
            "`start` launches the VMM as a process of its own and waits for it to report READY or an error. "
                    + "It ended, or stopped answering, without doing either.");

    public static final ErrorCode NO_CONSOLE = new ErrorCode("E456", ExitStatus.FAILURE,
            "no console output is kept",
            "Start the enclave with --debug (or debug = true in [enclave]) to keep its console in log_dir/console.log.",
            "An enclave's console is its only output channel besides vsock, so it is discarded unless the "
                    + "enclave runs in debug mode: a production enclave must not leak data that way.");

    public static final ErrorCode NOT_SCRUBBED = new ErrorCode("E457", ExitStatus.ENCLAVE,
            "the enclave's memory could not be scrubbed",
            "Read log_dir/enclavectl.log for the vCPU thread that would not stop; `enclavectl stop` then cleans up "
                    + "and `enclavectl start` runs a new enclave. Report it: a vCPU thread that cannot be stopped is a bug.",
            "At teardown every vCPU thread is kicked out of KVM_RUN and joined before guest RAM is zeroed and "
                    + "unmapped: unmapping it under a running thread would crash the VMM. One thread did not end in "
                    + "time, so the memory was left as it was and the enclave is recorded CRASHED, never STOPPED. "
                    + "The VMM scrubs and releases it if the thread ends later; otherwise the VMM's exit releases it "
                    + "(the kernel frees the memory once every thread is gone, and zeroes pages before reusing them).");

    public static final List<ErrorCode> ALL = List.of(CONTROL, BOOT_TIMEOUT, BOOT_FAILED, CRASHED, STOP_TIMEOUT,
            DAEMON, NO_CONSOLE, NOT_SCRUBBED);
}
