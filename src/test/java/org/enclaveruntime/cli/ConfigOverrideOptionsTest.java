package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigErrors;
import org.enclaveruntime.config.ConfigLoader;
import org.enclaveruntime.config.ConfigOverrides;
import org.enclaveruntime.config.CpuSelection;
import org.enclaveruntime.config.EnclaveConfig;
import org.enclaveruntime.config.InvalidConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start flags, parsed by picocli, reach the loader and win over the file. */
class ConfigOverrideOptionsTest {
    @TempDir
    Path dir;

    @Command(name = "probe")
    static final class Probe {
        @Mixin
        ConfigOverrideOptions overrides;
    }

    private ConfigOverrides parse(String... args) {
        Probe probe = new Probe();
        new CommandLine(probe).parseArgs(args);
        return probe.overrides.toOverrides();
    }

    private EnclaveConfig load(ConfigOverrides overrides) throws IOException {
        Path file = dir.resolve("enclave.conf");
        Files.writeString(file, "[enclave]\ncpu_count = 1\nmemory = 128M\ndebug = true\n");
        return ConfigLoader.load(file, Map.of(), overrides, dir.resolve("absent")).config();
    }

    @Test
    void noFlagsChangeNothing() throws IOException {
        assertEquals(ConfigOverrides.NONE, parse());
        EnclaveConfig config = load(parse());
        assertEquals(new CpuSelection.Count(1), config.cpus());
        assertTrue(config.debug());
    }

    @Test
    void flagsReplaceFileValues() throws IOException {
        EnclaveConfig config = load(parse("--cpu-ids", "0-1", "--memory", "256M", "--no-debug", "--image", "/i.bin"));
        assertEquals(new CpuSelection.Ids(List.of(0, 1)), config.cpus());
        assertEquals(256L << 20, config.memoryBytes());
        assertEquals(false, config.debug());
        assertEquals(Path.of("/i.bin"), config.image());
    }

    @Test
    void badFlagValueIsAConfigError() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> load(parse("--cpu-count", "x")));
        assertEquals(ConfigErrors.MALFORMED_VALUE, e.code());
        assertEquals("--cpu-count: 'x' is not a whole number (1..256)", e.getMessage());
    }
}
