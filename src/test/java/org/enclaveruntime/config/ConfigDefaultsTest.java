package org.enclaveruntime.config;

import org.enclaveruntime.platform.HugepagePolicy;
import org.enclaveruntime.platform.IsolationMode;
import org.enclaveruntime.platform.CpuRequest;
import org.enclaveruntime.platform.CpuList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built-in defaults, the shipped conf/enclave.conf and docs/configuration.md must agree. */
class ConfigDefaultsTest {
    private static final Path PROJECT = Path.of(System.getProperty("enclave.project.dir", "."));

    @TempDir
    Path dir;

    private LoadedConfig defaults() {
        return ConfigLoader.load(null, Map.of(), ConfigOverrides.NONE, dir.resolve("absent.conf"));
    }

    @Test
    void builtInDefaultsAreTheDocumentedOnes() {
        long m = 1024 * 1024;
        EnclaveConfig expected = new EnclaveConfig(Path.of("/usr/local/share/dragonfly/image.bin"),
                new CpuRequest.Count(2), 1024 * m, 16, false, Duration.ofSeconds(10), 512 * m, false, false,
                Optional.empty(), Path.of("/run/enclave/vsock.sock"), Optional.empty(), Path.of("/run/enclave"),
                Path.of("/var/log/enclave"), HugepagePolicy.AUTO, IsolationMode.NONE, Path.of("/dev/kvm"));
        assertEquals(expected, defaults().config());
    }

    @Test
    void shippedConfFileParsesToExactlyTheDefaults() {
        Path shipped = PROJECT.resolve("conf/enclave.conf");
        LoadedConfig loaded = ConfigLoader.load(shipped, Map.of(), ConfigOverrides.NONE, dir.resolve("absent"));

        assertEquals(defaults().config(), loaded.config());
        // Every key with a default is written out in the file, not left to the default.
        for (Setting s : loaded.settings().values()) {
            assertInstanceOf(Origin.FileLine.class, s.origin(), s.key() + " is not written in conf/enclave.conf");
        }
    }

    @Test
    void shippedConfFileMentionsEveryKeyInItsSection() throws IOException {
        List<String> lines = Files.readAllLines(PROJECT.resolve("conf/enclave.conf"));
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            Pattern line = Pattern.compile("^;?" + key.name() + " = .*");
            int at = -1;
            for (int i = 0; i < lines.size() && at < 0; i++) {
                at = line.matcher(lines.get(i)).matches() ? i : -1;
            }
            assertTrue(at >= 0, key + " (perhaps commented out) is missing from conf/enclave.conf");
            String section = null;
            for (int i = at; i >= 0 && section == null; i--) {
                section = lines.get(i).startsWith("[") ? lines.get(i) : null;
            }
            assertEquals("[" + key.section() + "]", section, key + " is under the wrong section");
        }
    }

    @Test
    void documentationListsEveryKeyWithItsDefault() throws IOException {
        String doc = Files.readString(PROJECT.resolve("docs/configuration.md"));
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            Matcher row = Pattern.compile("^\\| `" + key.name() + "` \\| [^|]+ \\| ([^|]+) \\|", Pattern.MULTILINE)
                    .matcher(doc);
            assertTrue(row.find(), key + " has no row in docs/configuration.md");
            String documented = row.group(1).trim();
            assertEquals(key.defaultText().map(d -> "`" + d + "`").orElse("none"), documented,
                    "documented default of " + key);
        }
        for (String section : ConfigKeys.SECTIONS) {
            assertTrue(doc.contains("### [" + section + "]"), "section " + section + " undocumented");
        }
    }

    @Test
    void inlineCommentsAreStrippedWhereWhiteSpacePrecedesThem() throws IOException {
        Path file = dir.resolve("comments.conf");
        Files.writeString(file, """
                [enclave]
                cpu_count = 3 ; three CPUs
                memory = 2G # two GiB
                image = /opt/a#b;c
                boot_timeout = 500ms\t; tab before the comment
                [runtime]
                log_dir = /var/log/x ;; doubled
                """);
        EnclaveConfig config = ConfigLoader.load(file, Map.of(), ConfigOverrides.NONE, dir.resolve("absent"))
                .config();
        assertEquals(new CpuRequest.Count(3), config.cpus());
        assertEquals(2L << 30, config.memoryBytes());
        assertEquals(Path.of("/opt/a#b;c"), config.image());
        assertEquals(Duration.ofMillis(500), config.bootTimeout());
        assertEquals(Path.of("/var/log/x"), config.logDir());
    }

    @Test
    void everyKeyIsReadFromAFile() throws IOException {
        Path file = dir.resolve("all.conf");
        Files.writeString(file, """
                \uFEFF[enclave]
                image: /srv/image.bin
                cpu_ids = 4-5, 1
                memory = 64MiB
                cid = 4294967294
                debug = ON
                boot_timeout = 2m
                reserve_memory = 1g
                share_cpus = 1
                require_signed = true
                trusted_cert = /etc/enclave/../enclave/cert.pem
                [vsock]
                socket = /tmp/v.sock
                group = enclave-users
                [runtime]
                run_dir = /tmp/run/
                log_dir = /tmp/log
                hugepages = 1g
                isolate = CPUSET
                kvm_device = /tmp/kvm
                """);
        EnclaveConfig expected = new EnclaveConfig(Path.of("/srv/image.bin"), new CpuRequest.Ids(new CpuList(List.of(1, 4, 5))),
                64L << 20, 4294967294L, true, Duration.ofMinutes(2), 1L << 30, true, true,
                Optional.of(Path.of("/etc/enclave/cert.pem")), Path.of("/tmp/v.sock"), Optional.of("enclave-users"), Path.of("/tmp/run"),
                Path.of("/tmp/log"), HugepagePolicy.SIZE_1G, IsolationMode.CPUSET, Path.of("/tmp/kvm"));
        LoadedConfig loaded = ConfigLoader.load(file, Map.of(), ConfigOverrides.NONE, dir.resolve("absent"));
        assertEquals(expected, loaded.config());
        assertEquals(ConfigKeys.ALL.size() - 1, loaded.explicitCount(), "all keys but cpu_count");
        assertEquals("1,4-5", loaded.setting(ConfigKeys.CPU_IDS).orElseThrow().text());
        assertEquals("64M", loaded.setting(ConfigKeys.MEMORY).orElseThrow().text());
    }

    @Test
    void canonicalTextOfEveryDefaultReadsBackToTheSameValue() throws InvalidValueException {
        for (Setting s : defaults().settings().values()) {
            assertEquals(s.value(), s.key().type().parse(s.text()), s.key().toString());
        }
    }
}
