package org.enclaveruntime.systemd;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.service.EnclaveService;
import org.enclaveruntime.state.StateRecord;

/**
 * The enclave service's events, told to systemd as well as to whoever started the service: each boot step
 * as STATUS=, READY=1 once the enclave has reported READY (so `systemctl start` returns only then), the error
 * as STATUS= when the start fails (the process then exits non-zero, so `systemctl start` fails), and
 * STOPPING=1 when a stop begins.
 */
public final class NotifyingEvents implements EnclaveService.Events {
    private final SystemdNotifier notifier;
    private final EnclaveService.Events next;

    public NotifyingEvents(SystemdNotifier notifier, EnclaveService.Events next) {
        this.notifier = notifier;
        this.next = next;
    }

    @Override
    public void progress(String step) {
        notifier.status(step);
        next.progress(step);
    }

    @Override
    public void ready(StateRecord running) {
        notifier.ready(runningLine(running));
        next.ready(running);
    }

    @Override
    public void failed(EnclaveException error) {
        notifier.failing(error);
        next.failed(error);
    }

    @Override
    public void stopping() {
        notifier.stopping("stopping the enclave");
        next.stopping();
    }

    /** The status line of a running enclave: "enclave running: pid 4242, cid 16, 1 vCPU(s) [1], 128 MiB". */
    static String runningLine(StateRecord r) {
        int vcpus = r.cpuIds() == null ? 0 : r.cpuIds().size();
        return "enclave running: pid " + r.pid() + ", cid " + r.cid() + ", " + vcpus + " vCPU(s) " + r.cpuIds()
                + ", " + r.memoryMib() + " MiB";
    }
}
