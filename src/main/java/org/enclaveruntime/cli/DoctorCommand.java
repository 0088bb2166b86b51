package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigLoader;
import org.enclaveruntime.config.EnclaveConfig;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ExitStatus;
import org.enclaveruntime.image.EnclaveImage;
import org.enclaveruntime.kvm.Kvm;
import org.enclaveruntime.platform.CheckResult;
import org.enclaveruntime.platform.CheckStatus;
import org.enclaveruntime.platform.KvmDeviceCheck;
import org.enclaveruntime.platform.CpuRequest;
import org.enclaveruntime.platform.Doctor;
import org.enclaveruntime.platform.DoctorCheck;
import org.enclaveruntime.platform.DoctorFinding;
import org.enclaveruntime.platform.PartitionPlan;
import org.enclaveruntime.platform.PlatformChecks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** `enclavectl doctor`: can this instance run the configured enclave, and if not, what to do. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Check that this instance can run the configured enclave: the configuration, KVM and its "
                + "capabilities, cores, memory, hugepages, CPU isolation, directories, the image and the partition "
                + "plan. One line per check: OK, WARN or FAIL, with the remedy.",
                "Exits with 5 if any check fails. Changes nothing."})
final class DoctorCommand implements Callable<Integer> {
    @ParentCommand
    EnclaveCtl parent;

    @Mixin
    OutputOptions output;

    /** Tests point this at a fake /sys and /proc tree; the checks that need the real host are then left out. */
    @Option(names = "--root", hidden = true, defaultValue = "/")
    Path root;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Wiring wiring;
        try {
            wiring = Wiring.forCommand(parent.global);
        } catch (EnclaveException e) {
            // Without a valid configuration the platform is still worth checking, against the built-in defaults.
            List<DoctorCheck> checks = new ArrayList<>();
            checks.add(DoctorCheck.of("config", () -> {
                throw e;
            }));
            checks.addAll(platformChecks(ConfigLoader.builtInDefaults()));
            return report(checks);
        }
        List<DoctorCheck> checks = new ArrayList<>();
        checks.add(DoctorCheck.of("config", () -> CheckResult.ok(wiring.configSource() + ": valid")));
        checks.addAll(platformChecks(wiring.config()));
        if (root.equals(Path.of("/"))) {
            Path device = wiring.config().kvmDevice();
            // Only on a device that passed the kvm check; otherwise that check has said all there is to say.
            if (new KvmDeviceCheck(device).run().status() == CheckStatus.OK) {
                checks.add(DoctorCheck.of("kvm_caps", () -> kvmCapabilities(device)));
            }
            checks.add(DoctorCheck.of("image", () -> image(wiring)));
            checks.add(DoctorCheck.of("plan", () -> plan(wiring)));
        }
        return report(checks);
    }

    private List<DoctorCheck> platformChecks(EnclaveConfig c) {
        Path kvm = root.equals(Path.of("/")) ? c.kvmDevice() : root.resolve("dev/kvm");
        return PlatformChecks.all(root, kvm, c.runDir(), c.logDir(), c.memoryBytes(), c.reserveMemoryBytes(),
                c.cpus() instanceof CpuRequest.Ids ids ? ids.ids() : null);
    }

    private int report(List<DoctorCheck> checks) {
        List<DoctorFinding> findings = Doctor.run(checks);
        output.print(spec.commandLine().getOut(), findings, () -> Doctor.render(findings));
        return Doctor.anyFailed(findings) ? ExitStatus.RESOURCES.code() : ExitStatus.OK.code();
    }

    private static CheckResult kvmCapabilities(Path device) {
        try (Kvm kvm = Kvm.open(device)) {
            return CheckResult.ok("API 12 with USER_MEMORY, IOEVENTFD, IMMEDIATE_EXIT, EXT_CPUID");
        }
    }

    private static CheckResult image(Wiring wiring) {
        EnclaveImage image = wiring.verifiedImage();
        String signer = image.signature().map(s -> "signed by " + s.signerSubject()).orElse("not signed");
        String detail = image.origin() + ": " + image.size() / 1024 + " KiB, intact, " + signer + ", pcr0 "
                + image.measurements().asHex().get("pcr0").substring(0, 16) + "...";
        if (image.signature().isEmpty() && !wiring.config().requireSigned()) {
            return CheckResult.warn(detail, "Sign the image (`enclavectl image sign`) and set require_signed = true "
                    + "with trusted_cert, so that only images you trust can boot.");
        }
        return CheckResult.ok(detail);
    }

    private static CheckResult plan(Wiring wiring) {
        PartitionPlan plan = wiring.plan();
        String detail = "CPUs " + plan.cpuIds().format() + ", " + plan.memoryMib() + " MiB in " + plan.pageSize()
                + " pages; the primary keeps CPUs " + plan.primaryCpus().format();
        return plan.shared() ? CheckResult.warn(detail + "; " + plan.warning(), "Set share_cpus = false on an "
                + "instance with a spare core, so that the enclave is isolated.") : CheckResult.ok(detail);
    }
}
