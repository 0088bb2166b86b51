package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `enclavectl sdk edger8r` through the real command line. */
class SdkEdger8rCommandTest {
    private static final Path CORPUS = Path.of("src/test/resources/edl");

    @TempDir
    Path dir;

    @Test
    void writesTheHalvesWhereAskedAndReportsThemAsJson() throws Exception {
        Path t = dir.resolve("trusted");
        Path u = dir.resolve("untrusted");
        CliRun r = CliRun.of("sdk", "edger8r", "--search-path", CORPUS.resolve("good/lib").toString(),
                "--trusted-dir", t.toString(), "--untrusted-dir", u.toString(), "--output", "json",
                CORPUS.resolve("good/Imports.edl").toString());
        assertEquals(0, r.status(), r.toString());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("Imports", j.get("name").asText());
        assertEquals(4, j.get("files").size());
        assertTrue(Files.readString(t.resolve("Imports_t.c")).contains("enclave_ecalls"));
        assertTrue(Files.readString(u.resolve("Imports_u.h")).contains("sgx_status_t ecall_main(sgx_enclave_id_t eid, int *retval);"));
        assertEquals(j.get("ecalls").asInt(), 3);
    }

    @Test
    void trustedOnlyWritesOneHalfAndWarningsGoToStderr() {
        CliRun r = CliRun.of("sdk", "edger8r", "--trusted", "--trusted-dir", dir.toString(),
                CORPUS.resolve("good/Attributes.edl").toString());
        assertEquals(0, r.status(), r.toString());
        assertTrue(Files.exists(dir.resolve("Attributes_t.h")));
        assertFalse(Files.exists(dir.resolve("Attributes_u.h")));
        assertTrue(r.err().contains("warning: ") && r.err().contains("transition_using_threads"), r.err());
    }

    @Test
    void aRefusedEdlExitsOneWithItsCodeAndPosition() {
        CliRun r = CliRun.of("sdk", "edger8r", "--trusted-dir", dir.toString(), "--untrusted-dir", dir.toString(),
                CORPUS.resolve("refused/sizefunc.edl").toString());
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("E951") && r.err().contains("sizefunc.edl:4:24"), r.err());
    }

    @Test
    void trustedAndUntrustedTogetherIsAUsageError() {
        CliRun r = CliRun.of("sdk", "edger8r", "--trusted", "--untrusted", CORPUS.resolve("good/Minimal.edl").toString());
        assertEquals(2, r.status(), r.toString());
    }
}
