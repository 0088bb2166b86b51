package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.config.ConfigErrors;
import org.enclaveruntime.config.ConfigKeys;
import org.enclaveruntime.errors.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `enclavectl config check|show` through EnclaveCtl.run, as a user runs them. */
class ConfigCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private Path write(String text) throws IOException {
        Path file = dir.resolve("enclave.conf");
        Files.writeString(file, text);
        return file;
    }

    @Test
    void checkOfAGoodFilePrintsOkAndExitsZero() throws IOException {
        Path file = write("[enclave]\ncpu_count = 1 ; one\n");
        CliRun r = run("config", "check", "--config", file.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals(file + ": OK (1 of " + ConfigKeys.ALL.size() + " keys set, the others default)\n", r.out());
        assertEquals("", r.err());
    }

    @Test
    void checkOfABadFileListsEveryProblemOnStderrAndExitsThree() throws IOException {
        Path file = write("[enclave]\ncpu_count = two\nmemory = 1024\n");
        CliRun r = run("config", "check", "--config", file.toString());
        assertEquals(3, r.status());
        List<String> lines = r.err().lines().toList();
        assertEquals("error E208: " + file + ":2: cpu_count: 'two' is not a whole number (1..256)", lines.get(0));
        assertTrue(lines.get(1).startsWith("error E209: " + file + ":3: memory: '1024' has no unit; add a unit, e.g. 1024M"),
                lines.get(1));
        assertTrue(lines.get(2).startsWith("  remedy: "), r.err());
        assertTrue(!r.err().contains("\tat "), "no stack trace without -v");
    }

    @Test
    void configOptionWorksBeforeTheCommandToo() throws IOException {
        Path file = write("[enclave]\ncid = 1\n");
        CliRun r = run("--config", file.toString(), "config", "check");
        assertEquals(3, r.status());
        assertTrue(r.err().startsWith("error E210: " + file + ":2: cid: '1' is out of range"), r.err());
    }

    @Test
    void missingExplicitFileExitsThree() {
        Path missing = dir.resolve("missing.conf");
        CliRun r = run("config", "check", "--config", missing.toString());
        assertEquals(3, r.status());
        assertTrue(r.err().startsWith("error E214: " + missing + ": no such configuration file"), r.err());
    }

    @Test
    void showPrintsAnAlignedTableOfEveryKeyWithItsOrigin() throws IOException {
        Path file = write("[enclave]\n\nmemory = 2048M\n[runtime]\nhugepages = 1G\n");
        CliRun r = run("config", "show", "--config", file.toString());
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("source: " + file + " (--config)", lines.get(0));
        List<String> rows = lines.subList(1, lines.size());
        assertEquals(ConfigKeys.ALL.size() + 1, rows.size(), r.out());
        int originColumn = rows.get(0).indexOf("ORIGIN");
        int valueColumn = rows.get(0).indexOf("VALUE");
        for (String row : rows.subList(1, rows.size())) {
            assertTrue(row.charAt(valueColumn - 1) == ' ' && row.charAt(valueColumn) != ' ', row);
            assertTrue(row.charAt(originColumn - 1) == ' ' && row.charAt(originColumn) != ' ', row);
        }
        assertTrue(r.out().contains("enclave.memory  "), r.out());
        String memoryRow = rows.stream().filter(l -> l.startsWith("enclave.memory ")).findFirst().orElseThrow();
        assertEquals("2G", memoryRow.substring(valueColumn, originColumn).trim());
        assertEquals(file + ":3", memoryRow.substring(originColumn));
        String trustRow = rows.stream().filter(l -> l.startsWith("enclave.trusted_cert ")).findFirst().orElseThrow();
        assertEquals("unset", trustRow.substring(originColumn));
    }

    @Test
    void showAsJsonHasEveryKeyWithValueAndOrigin() throws IOException {
        Path file = write("[enclave]\ncpu_ids = 0-1\n");
        CliRun r = run("config", "show", "--output", "json", "--config", file.toString());
        assertEquals(0, r.status(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(file.toString(), json.at("/source/path").asText());
        assertEquals("config_option", json.at("/source/reason").asText());
        JsonNode values = json.get("values");
        assertEquals(ConfigKeys.ALL.size(), values.size());
        assertEquals("0-1", values.at("/enclave.cpu_ids/value").asText());
        assertEquals(file + ":2", values.at("/enclave.cpu_ids/origin").asText());
        assertTrue(values.at("/enclave.cpu_count/value").isNull(), "cpu_count is replaced by cpu_ids");
        assertEquals("default", values.at("/runtime.isolate/origin").asText());
    }

    @Test
    void configWithoutSubcommandIsAUsageError() {
        CliRun r = run("config");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("check or show"), r.err());
    }

    @Test
    void everyConfigCodeIsInTheCatalogOnceAndExplained() throws ReflectiveOperationException {
        Set<String> ids = new HashSet<>();
        for (ErrorCode code : ErrorCatalog.all()) {
            assertTrue(ids.add(code.id()), "duplicate id " + code.id());
        }
        for (var field : ConfigErrors.class.getFields()) {
            if (field.getType() == ErrorCode.class) {
                ErrorCode code = (ErrorCode) field.get(null);
                assertTrue(ConfigErrors.ALL.contains(code), field.getName() + " missing from ConfigErrors.ALL");
                assertTrue(code.id().startsWith("E2"), code.id());
            }
        }
        assertTrue(ErrorCatalog.all().containsAll(ConfigErrors.ALL));
        CliRun r = run("explain", "E203");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("E203: duplicate configuration key"), r.out());
    }
}
