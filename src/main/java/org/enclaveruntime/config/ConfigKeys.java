package org.enclaveruntime.config;

import org.enclaveruntime.platform.HugepagePolicy;
import org.enclaveruntime.platform.IsolationMode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Every key of /etc/enclave.conf, in the order `config show` prints them. Adding a key: one constant here
 * (and in {@link #ALL}), one field of {@link EnclaveConfig}, and its line in conf/enclave.conf and
 * docs/configuration.md (tests check that those two mention every key and agree on defaults).
 */
public final class ConfigKeys {
    private ConfigKeys() {
    }

    public static final String ENCLAVE = "enclave";
    public static final String VSOCK = "vsock";
    public static final String RUNTIME = "runtime";
    public static final List<String> SECTIONS = List.of(ENCLAVE, VSOCK, RUNTIME);

    private static final PathType PATH = new PathType();
    private static final BooleanType BOOLEAN = new BooleanType();

    public static final ConfigKey<Path> IMAGE = ConfigKey.of(ENCLAVE, "image", PATH,
            "/usr/local/share/dragonfly/image.bin", "the enclave image to boot");
    public static final ConfigKey<Long> CPU_COUNT = ConfigKey.of(ENCLAVE, "cpu_count",
            new WholeNumberType(1, 256), "2", "how many CPUs the enclave gets (any free ones); or use cpu_ids");
    public static final ConfigKey<List<Integer>> CPU_IDS = ConfigKey.withoutDefault(ENCLAVE, "cpu_ids",
            new CpuListType(4095), "exactly which CPUs the enclave gets, e.g. 2-3,6; or use cpu_count");
    public static final ConfigKey<Long> MEMORY = ConfigKey.of(ENCLAVE, "memory",
            new SizeType(64 * SizeType.M, 1024 * SizeType.G, 2 * SizeType.M), "1024M",
            "the enclave's memory");
    public static final ConfigKey<Long> CID = ConfigKey.of(ENCLAVE, "cid",
            new WholeNumberType(3, 0xFFFF_FFFEL), "16", "the enclave's vsock context id");
    public static final ConfigKey<Boolean> DEBUG = ConfigKey.of(ENCLAVE, "debug", BOOLEAN, "false",
            "debug mode: the enclave's console output is kept");
    public static final ConfigKey<Duration> BOOT_TIMEOUT = ConfigKey.of(ENCLAVE, "boot_timeout",
            new DurationType(Duration.ofMillis(100), Duration.ofMinutes(10)), "10s",
            "how long the enclave may take to report ready");
    public static final ConfigKey<Long> RESERVE_MEMORY = ConfigKey.of(ENCLAVE, "reserve_memory",
            new SizeType(64 * SizeType.M, 1024 * SizeType.G, 1), "512M",
            "memory always left to the primary VM");
    public static final ConfigKey<Boolean> SHARE_CPUS = ConfigKey.of(ENCLAVE, "share_cpus", BOOLEAN, "false",
            "development only: let the enclave use CPUs the primary VM keeps using");
    public static final ConfigKey<Boolean> REQUIRE_SIGNED = ConfigKey.of(ENCLAVE, "require_signed", BOOLEAN,
            "false", "boot only images signed with trusted_cert");
    public static final ConfigKey<Path> TRUSTED_CERT = ConfigKey.withoutDefault(ENCLAVE, "trusted_cert", PATH,
            "certificate whose key signs acceptable images; required when require_signed = true");
    public static final ConfigKey<Path> VSOCK_SOCKET = ConfigKey.of(VSOCK, "socket", PATH,
            "/run/enclave/vsock.sock", "Unix socket through which the primary VM talks to the enclave");
    public static final ConfigKey<String> VSOCK_GROUP = ConfigKey.withoutDefault(VSOCK, "group", new GroupType(),
            "group that may use the vsock socket (mode 0660); unset: the group of the enclavectl process");
    public static final ConfigKey<Path> RUN_DIR = ConfigKey.of(RUNTIME, "run_dir", PATH, "/run/enclave",
            "state file and lock");
    public static final ConfigKey<Path> LOG_DIR = ConfigKey.of(RUNTIME, "log_dir", PATH, "/var/log/enclave",
            "enclavectl's log and the enclave's console log");
    public static final ConfigKey<HugepagePolicy> HUGEPAGES = ConfigKey.of(RUNTIME, "hugepages",
            new ChoiceType<>(HugepagePolicy.values(), HugepagePolicy::text), "auto",
            "page size backing the enclave's memory");
    public static final ConfigKey<IsolationMode> ISOLATE = ConfigKey.of(RUNTIME, "isolate",
            new ChoiceType<>(IsolationMode.values(), IsolationMode::text), "none",
            "cpuset: move the primary's tasks off the enclave's CPUs");
    public static final ConfigKey<Path> KVM_DEVICE = ConfigKey.of(RUNTIME, "kvm_device", PATH, "/dev/kvm",
            "the KVM device the enclave runs on");

    public static final List<ConfigKey<?>> ALL = List.of(IMAGE, CPU_COUNT, CPU_IDS, MEMORY, CID, DEBUG,
            BOOT_TIMEOUT, RESERVE_MEMORY, SHARE_CPUS, REQUIRE_SIGNED, TRUSTED_CERT, VSOCK_SOCKET, VSOCK_GROUP, RUN_DIR, LOG_DIR,
            HUGEPAGES, ISOLATE, KVM_DEVICE);

    /** Keys of which at most one may be set in one place; a later source setting one hides the others. */
    static final List<List<ConfigKey<?>>> ALTERNATIVES = List.of(List.of(CPU_COUNT, CPU_IDS));

    /** When {@code flag} is true, {@code required} must be set. */
    record Requirement(ConfigKey<Boolean> flag, ConfigKey<?> required) {
    }

    static final List<Requirement> REQUIREMENTS = List.of(new Requirement(REQUIRE_SIGNED, TRUSTED_CERT));

    public static Optional<ConfigKey<?>> find(String section, String name) {
        for (ConfigKey<?> key : ALL) {
            if (key.section().equals(section) && key.name().equals(name)) {
                return Optional.of(key);
            }
        }
        return Optional.empty();
    }

    public static Optional<ConfigKey<?>> find(String qualifiedName) {
        return ALL.stream().filter(k -> k.qualifiedName().equals(qualifiedName)).findFirst();
    }
}
