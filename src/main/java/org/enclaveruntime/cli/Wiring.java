package org.enclaveruntime.cli;

import org.enclaveruntime.config.CleanupSettings;
import org.enclaveruntime.config.ConfigLoader;
import org.enclaveruntime.config.ConfigOverrides;
import org.enclaveruntime.platform.Isolation;
import org.enclaveruntime.platform.MemoryReader;
import org.enclaveruntime.platform.PageSize;
import org.enclaveruntime.platform.PartitionPlan;
import org.enclaveruntime.platform.PartitionPlanner;
import org.enclaveruntime.platform.PartitionRequest;
import org.enclaveruntime.platform.TopologyReader;
import org.enclaveruntime.config.EnclaveConfig;
import org.enclaveruntime.config.LoadedConfig;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.image.EnclaveImage;
import org.enclaveruntime.image.PemFiles;
import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.service.EnclaveService;
import org.enclaveruntime.service.PreflightCheck;
import org.enclaveruntime.service.StartRefusal;
import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.StateErrors;
import org.enclaveruntime.vmm.VmSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.OptionalLong;

/**
 * Where the program is assembled: from the global options, the start options and the configuration it
 * builds what the commands work with. Commands do not construct these objects themselves.
 */
final class Wiring {
    private final GlobalOptions global;
    private final LoadedConfig loaded;

    private Wiring(GlobalOptions global, LoadedConfig loaded) {
        this.global = global;
        this.loaded = loaded;
    }

    /**
     * Commands that change something log to log_dir; read-only ones (status, config) do not, and so skip
     * logging's start-up cost.
     */
    Wiring withLogging() {
        LogSetup.configure(config().logDir(), global.verbose());
        return this;
    }

    static Wiring forCommand(GlobalOptions global) {
        return new Wiring(global, ConfigLoader.load(global.config(), System.getenv(), ConfigOverrides.NONE));
    }

    /**
     * run_dir and log_dir for `stop`, read even from a configuration that no longer validates; logging is set
     * up with them (stderr only when log_dir is invalid).
     */
    static CleanupSettings cleanupSettings(GlobalOptions global) {
        CleanupSettings settings = CleanupSettings.find(global.config(), System.getenv(), ConfigLoader.SYSTEM_FILE);
        LogSetup.configure(settings.logDir(), global.verbose());
        return settings;
    }

    static Wiring forStart(GlobalOptions global, ConfigOverrideOptions start) {
        ConfigOverrides o = start.toOverrides();
        return new Wiring(global, ConfigLoader.load(global.config(), System.getenv(), o));
    }

    EnclaveConfig config() {
        return loaded.config();
    }

    /** Where the configuration came from, as a user reads it. */
    String configSource() {
        return loaded.source().describe();
    }

    RunDirectory runDirectory() {
        return new RunDirectory(config().runDir());
    }

    Path consoleLog() {
        return config().logDir().resolve("console.log");
    }

    /** Where the VMM that `start` launches writes its stderr. */
    Path vmmStderr() {
        return config().logDir().resolve("vmm.stderr");
    }

    /** Arguments that make the VMM process load the same configuration this process did. */
    List<String> globalArguments() {
        List<String> args = new java.util.ArrayList<>();
        if (global.config() != null) {
            args.add("--config=" + global.config().toAbsolutePath());
        }
        if (global.verbose()) {
            args.add("-v");
        }
        return args;
    }

    /** Everything the VMM needs to run the configured enclave. */
    EnclaveService.Launch launch() {
        EnclaveConfig c = config();
        EnclaveImage image;
        try {
            // Every refusal that needs no lock comes before the lock, and each is recorded as last_error.
            kvmCheck().require();
            image = verifiedImage();
            Isolation.check(c.isolate(), Path.of("/"));
        } catch (EnclaveException e) {
            StartRefusal.record(runDirectory(), e);
            throw e;
        }
        byte[] runtime = new byte[image.runtimeElf().remaining()];
        image.runtimeElf().duplicate().get(runtime);
        return new EnclaveService.Launch(this::plan, plan -> {
            MemoryBacking backing = plan.pageSize() == PageSize.SIZE_4K ? MemoryBacking.ORDINARY
                    : MemoryBacking.hugetlb(plan.pageSize().bytes());
            Path console = c.debug() ? rotateConsole() : null;
            return new VmSpec(plan.cpuIds().size(), c.memoryBytes(), runtime, c.debug(), console, c.cid(),
                    plan.cpuIds().cpus(), backing, c.kvmDevice(), c.vsockSocket(), c.vsockGroup());
        }, runDirectory(), c.bootTimeout(), c.image().toString(), image.measurements().asHex(), c.vsockSocket(),
                c.isolate());
    }

    /**
     * The configured image, checked whole before anything is reserved: structure, CRC, every section's hash,
     * the signature against trusted_cert when require_signed is set, and that it fits the memory. What boots
     * is the private copy that was checked, not the file, which could change afterwards.
     */
    EnclaveImage verifiedImage() {
        EnclaveConfig c = config();
        EnclaveImage image = EnclaveImage.load(c.image());
        if (c.requireSigned()) {
            image.verifySignature(PemFiles.readCertificate(c.trustedCert().orElseThrow()));
        }
        image.requireFits(c.memoryBytes(), c.cpus().size());
        return image;
    }

    /** The configured KVM device opens and has the API version and capabilities the VMM needs. */
    PreflightCheck kvmCheck() {
        return PreflightCheck.kvm(config().kvmDevice());
    }

    /**
     * What `start --dry-run` reports, in the order `start` meets them: the lock, KVM, the image, isolation,
     * and the plan, which is null when it cannot be made (its check then says why).
     */
    DryRun dryRun() {
        EnclaveConfig c = config();
        List<PreflightCheck> checks = new java.util.ArrayList<>();
        checks.add(PreflightCheck.run("lock", () -> {
            OptionalLong holder = EnclaveLock.holder(runDirectory().lockFile());
            if (holder.isPresent()) {
                throw new EnclaveException(StateErrors.ALREADY_RUNNING, "an enclave is already running (VMM pid "
                        + holder.getAsLong() + ")");
            }
            return "no enclave runs from " + runDirectory().path();
        }));
        checks.add(kvmCheck());
        checks.add(PreflightCheck.run("image", () -> {
            EnclaveImage image = verifiedImage();
            return c.image() + ": intact" + (c.requireSigned() ? ", signed by trusted_cert" : "")
                    + ", fits " + (c.memoryBytes() >> 20) + " MiB (pcr0 "
                    + image.measurements().asHex().get("pcr0").substring(0, 16) + "...)";
        }));
        checks.add(PreflightCheck.run("isolation", () -> {
            Isolation.check(c.isolate(), Path.of("/"));
            return "isolate = " + c.isolate().text() + " is supported here";
        }));
        PartitionPlan[] plan = new PartitionPlan[1];
        checks.add(PreflightCheck.run("plan", () -> {
            plan[0] = plan();
            return plan[0].cpuIds().size() + " CPU(s) " + plan[0].cpuIds().format() + ", "
                    + plan[0].memoryMib() + " MiB in " + plan[0].pageSize().label() + " pages";
        }));
        return new DryRun(plan[0], checks);
    }

    /** Which CPUs and memory the enclave would get on this machine; reserves nothing. */
    PartitionPlan plan() {
        EnclaveConfig c = config();
        PartitionRequest request = new PartitionRequest(c.cpus(), c.memoryBytes(), c.reserveMemoryBytes(),
                c.shareCpus(), c.hugepages());
        return PartitionPlanner.plan(request, TopologyReader.read(), MemoryReader.read());
    }

    /** The console of the previous enclave is kept as console.log.1 until the next start replaces it. */
    private Path rotateConsole() {
        Path console = consoleLog();
        try {
            Files.createDirectories(console.getParent());
            if (Files.exists(console)) {
                Files.move(console, console.resolveSibling("console.log.1"), StandardCopyOption.REPLACE_EXISTING);
            }
            return console;
        } catch (IOException e) {
            throw new EnclaveException(GeneralErrors.IO, "cannot prepare " + console + ": " + e.getMessage(), e);
        }
    }
}
