package org.enclaveruntime.cli;

import org.enclaveruntime.errors.ExitStatus;
import org.enclaveruntime.platform.Doctor;
import org.enclaveruntime.platform.DoctorCheck;
import org.enclaveruntime.platform.DoctorFinding;
import org.enclaveruntime.platform.PartitionRequest;
import org.enclaveruntime.platform.PlatformChecks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** `enclavectl doctor`: can this instance run an enclave, and if not, what to do. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Check that this instance can run an enclave: KVM, cores, memory, hugepages, CPU isolation, "
                + "directories. One line per check: OK, WARN or FAIL, with the remedy.",
                "Exits with 5 if any check fails. Changes nothing."})
final class DoctorCommand implements Callable<Integer> {
    @Mixin
    OutputOptions output;

    @Option(names = "--run-dir", paramLabel = "DIR", defaultValue = "/run/enclave",
            description = "Run directory to check (default: ${DEFAULT-VALUE}).")
    Path runDir;

    @Option(names = "--log-dir", paramLabel = "DIR", defaultValue = "/var/log/enclave",
            description = "Log directory to check (default: ${DEFAULT-VALUE}).")
    Path logDir;

    /** Tests point this at a fake /sys and /proc tree. */
    @Option(names = "--root", hidden = true, defaultValue = "/")
    Path root;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<DoctorCheck> checks = PlatformChecks.all(root, runDir, logDir, PlatformChecks.DEFAULT_MEMORY,
                PartitionRequest.DEFAULT_RESERVE_MEMORY, null);
        List<DoctorFinding> findings = Doctor.run(checks);
        output.print(spec.commandLine().getOut(), findings, () -> Doctor.render(findings));
        return Doctor.anyFailed(findings) ? ExitStatus.RESOURCES.code() : ExitStatus.OK.code();
    }
}
