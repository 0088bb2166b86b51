package org.enclaveruntime.config;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** flag > --config > $ENCLAVE_CONF > /etc/enclave.conf > built-in defaults; exactly one file is read. */
class ConfigSourceOrderTest {
    private static final long M = 1024 * 1024;

    @TempDir
    Path dir;
    Path system;
    Path fromEnv;
    Path explicit;

    @BeforeEach
    void writeFiles() throws IOException {
        system = write("system.conf", "[enclave]\nmemory = 128M\ncid = 20\ndebug = yes\n");
        fromEnv = write("env.conf", "[enclave]\nmemory = 256M\n");
        explicit = write("explicit.conf", "; explicit\n[enclave]\nmemory = 512M\n");
    }

    private Path write(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    private static Map<String, String> env(Path file) {
        return Map.of(ConfigLoader.ENV_VARIABLE, file.toString());
    }

    @Test
    void configOptionWinsOverEnvironmentAndSystemFile() {
        LoadedConfig loaded = ConfigLoader.load(explicit, env(fromEnv), ConfigOverrides.NONE, system);

        assertEquals(512 * M, loaded.config().memoryBytes());
        assertEquals(new Origin.FileLine(explicit.toString(), 3), loaded.setting(ConfigKeys.MEMORY).orElseThrow().origin());
        assertEquals(new ConfigSource.File(explicit, ConfigSource.Reason.CONFIG_OPTION), loaded.source());
        // Files are not merged: the system file's cid does not leak in.
        assertEquals(16, loaded.config().cid());
        assertInstanceOf(Origin.BuiltIn.class, loaded.setting(ConfigKeys.CID).orElseThrow().origin());
    }

    @Test
    void environmentWinsOverSystemFile() {
        LoadedConfig loaded = ConfigLoader.load(null, env(fromEnv), ConfigOverrides.NONE, system);

        assertEquals(256 * M, loaded.config().memoryBytes());
        assertEquals(ConfigSource.Reason.ENVIRONMENT, ((ConfigSource.File) loaded.source()).reason());
        assertFalse(loaded.config().debug());
    }

    @Test
    void systemFileIsReadWhenNothingElseIsNamed() {
        LoadedConfig loaded = ConfigLoader.load(null, Map.of(), ConfigOverrides.NONE, system);

        assertEquals(128 * M, loaded.config().memoryBytes());
        assertEquals(20, loaded.config().cid());
        assertTrue(loaded.config().debug());
        assertEquals(3, loaded.explicitCount());
    }

    @Test
    void emptyEnvironmentVariableCountsAsUnset() {
        LoadedConfig loaded = ConfigLoader.load(null, Map.of(ConfigLoader.ENV_VARIABLE, ""), ConfigOverrides.NONE,
                system);
        assertEquals(128 * M, loaded.config().memoryBytes());
    }

    @Test
    void withoutAnyFileTheBuiltInDefaultsApply() {
        Path absent = dir.resolve("absent.conf");
        LoadedConfig loaded = ConfigLoader.load(null, Map.of(), ConfigOverrides.NONE, absent);

        assertEquals(new ConfigSource.BuiltInDefaults(absent), loaded.source());
        assertEquals(0, loaded.explicitCount());
        assertTrue(loaded.settings().values().stream().allMatch(s -> s.origin() instanceof Origin.BuiltIn));
    }

    @Test
    void flagsWinOverTheFile() {
        LoadedConfig loaded = ConfigLoader.load(explicit, Map.of(), ConfigOverrides.NONE.withMemory("2G")
                .withDebug(true).withImage(Path.of("relative/image.bin")), system);

        assertEquals(2048 * M, loaded.config().memoryBytes());
        assertEquals(new Origin.Flag("--memory"), loaded.setting(ConfigKeys.MEMORY).orElseThrow().origin());
        assertTrue(loaded.config().debug());
        // A relative --image is relative to the current directory, as typed.
        assertEquals(Path.of("relative/image.bin").toAbsolutePath().normalize(), loaded.config().image());
    }

    @Test
    void cpuIdsFlagReplacesTheFilesCpuCountAndViceVersa() throws IOException {
        Path counted = write("count.conf", "[enclave]\ncpu_count = 3\n");
        LoadedConfig byIds = ConfigLoader.load(counted, Map.of(), ConfigOverrides.NONE.withCpuIds("0-1"), system);
        assertEquals(new CpuSelection.Ids(List.of(0, 1)), byIds.config().cpus());
        assertTrue(byIds.setting(ConfigKeys.CPU_COUNT).isEmpty());

        Path listed = write("ids.conf", "[enclave]\ncpu_ids = 1,3\n");
        LoadedConfig fileIds = ConfigLoader.load(listed, Map.of(), ConfigOverrides.NONE, system);
        assertEquals(new CpuSelection.Ids(List.of(1, 3)), fileIds.config().cpus());
        assertTrue(fileIds.setting(ConfigKeys.CPU_COUNT).isEmpty(), "the default cpu_count is hidden by cpu_ids");

        LoadedConfig byCount = ConfigLoader.load(listed, Map.of(), ConfigOverrides.NONE.withCpuCount("1"), system);
        assertEquals(new CpuSelection.Count(1), byCount.config().cpus());
        assertTrue(byCount.setting(ConfigKeys.CPU_IDS).isEmpty());
    }

    @Test
    void flagValuesAreCheckedLikeFileValues() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> ConfigLoader.load(explicit,
                Map.of(), ConfigOverrides.NONE.withMemory("3M"), system));
        assertEquals(ConfigErrors.OUT_OF_RANGE, e.code());
        assertEquals(0, e.problems().get(0).line());
        assertEquals("--memory: '3M' is below the minimum 64M", e.problems().get(0).message());
    }

    @Test
    void bothCpuFlagsConflict() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> ConfigLoader.load(explicit,
                Map.of(), ConfigOverrides.NONE.withCpuCount("2").withCpuIds("0-1"), system));
        assertEquals(ConfigErrors.CONFLICTING_KEYS, e.code());
        assertTrue(e.getMessage().startsWith("--cpu-ids: cannot be combined with --cpu-count"), e.getMessage());
    }

    @Test
    void explicitlyNamedFilesMustExist() {
        Path missing = dir.resolve("missing.conf");
        EnclaveException byOption = assertThrows(EnclaveException.class,
                () -> ConfigLoader.load(missing, Map.of(), ConfigOverrides.NONE, system));
        assertEquals(ConfigErrors.FILE_NOT_FOUND, byOption.code());
        assertTrue(byOption.getMessage().contains("--config"), byOption.getMessage());

        EnclaveException byEnv = assertThrows(EnclaveException.class,
                () -> ConfigLoader.load(null, env(missing), ConfigOverrides.NONE, system));
        assertEquals(ConfigErrors.FILE_NOT_FOUND, byEnv.code());
        assertTrue(byEnv.getMessage().contains("$ENCLAVE_CONF"), byEnv.getMessage());
    }
}
