package org.enclaveruntime.config;

import org.enclaveruntime.platform.HugepagePolicy;
import org.enclaveruntime.platform.IsolationMode;
import org.enclaveruntime.platform.CpuList;
import org.enclaveruntime.platform.CpuRequest;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The effective, validated configuration of the enclave and of enclavectl. Built by {@link ConfigLoader};
 * every value is already checked against its range, so users of this record need not check again.
 */
public record EnclaveConfig(
        Path image,
        CpuRequest cpus,
        long memoryBytes,
        long cid,
        boolean debug,
        Duration bootTimeout,
        long reserveMemoryBytes,
        boolean shareCpus,
        boolean requireSigned,
        Optional<Path> trustedCert,
        Path vsockSocket,
        Optional<String> vsockGroup,
        Path runDir,
        Path logDir,
        HugepagePolicy hugepages,
        IsolationMode isolate,
        Path kvmDevice) {

    /** Built from validated settings; a key missing here is a bug in the loader, not a user error. */
    static EnclaveConfig from(java.util.Map<ConfigKey<?>, Setting> s) {
        Setting ids = s.get(ConfigKeys.CPU_IDS);
        CpuRequest cpus = ids != null ? new CpuRequest.Ids(new CpuList(ConfigKeys.CPU_IDS.cast(ids.value())))
                : new CpuRequest.Count(Math.toIntExact(get(s, ConfigKeys.CPU_COUNT)));
        return new EnclaveConfig(
                get(s, ConfigKeys.IMAGE),
                cpus,
                get(s, ConfigKeys.MEMORY),
                get(s, ConfigKeys.CID),
                get(s, ConfigKeys.DEBUG),
                get(s, ConfigKeys.BOOT_TIMEOUT),
                get(s, ConfigKeys.RESERVE_MEMORY),
                get(s, ConfigKeys.SHARE_CPUS),
                get(s, ConfigKeys.REQUIRE_SIGNED),
                Optional.ofNullable(s.get(ConfigKeys.TRUSTED_CERT)).map(t -> ConfigKeys.TRUSTED_CERT.cast(t.value())),
                get(s, ConfigKeys.VSOCK_SOCKET),
                Optional.ofNullable(s.get(ConfigKeys.VSOCK_GROUP)).map(g -> ConfigKeys.VSOCK_GROUP.cast(g.value())),
                get(s, ConfigKeys.RUN_DIR),
                get(s, ConfigKeys.LOG_DIR),
                get(s, ConfigKeys.HUGEPAGES),
                get(s, ConfigKeys.ISOLATE),
                get(s, ConfigKeys.KVM_DEVICE));
    }

    private static <T> T get(java.util.Map<ConfigKey<?>, Setting> settings, ConfigKey<T> key) {
        Setting setting = settings.get(key);
        if (setting == null) {
            throw new IllegalStateException("no value for " + key);
        }
        return key.cast(setting.value());
    }
}
