package org.enclaveruntime.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.cli.CliRun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.enclaveruntime.sdk.ScriptedEnclave.ECALL;
import static org.enclaveruntime.sdk.ScriptedEnclave.ECALL_RETURN;
import static org.enclaveruntime.sdk.ScriptedEnclave.LOADED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `enclavectl bench ecall` and `enclavectl explain STATUS` as a user runs them, against the scripted enclave
 * (the real one is measured by the lead on KVM; docs/performance.md).
 */
class BenchEcallCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private ScriptedEnclave enclave;
    private Path config;
    private Path module;

    @BeforeEach
    void setUp() throws IOException {
        enclave = new ScriptedEnclave(dir.resolve("v.sock"), new EnclaveModuleProtocolTest.Good());
        config = dir.resolve("enclave.conf");
        Files.writeString(config, "[vsock]\nsocket = " + enclave.socket + "\n");
        module = new SignedTestModule().signTo(SignedTestModule.bytes(SignedTestModule.built("test-module.so")),
                SignedTestModule.PRODUCTION, dir.resolve("test-module.signed.so"));
    }

    @AfterEach
    void tearDown() throws IOException {
        enclave.close();
        assertEquals(List.of(), enclave.problems);
    }

    private CliRun bench(String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("bench", "ecall", "--config", config.toString(),
                "--module", module.toString()));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void measuresBothCallsAndReportsThemInJson() throws Exception {
        CliRun r = bench("--calls", "200", "-o", "json");
        assertEquals(0, r.status(), r.toString());
        JsonNode j = JSON.readTree(r.out());
        for (JsonNode n : List.of(j, j.get("buffer_4k"))) {
            assertTrue(n.get("p50_us").asDouble() > 0, r.out());
            assertTrue(n.get("p50_us").asDouble() <= n.get("p99_us").asDouble(), r.out());
            assertTrue(n.get("calls_per_s").asLong() > 0, r.out());
            assertEquals(200, n.get("calls").asInt(), r.out());
        }
        // the check call, 20 warm-up calls and 200 measured ones of each kind; the echo with 4 KiB each way
        long empty = enclave.received.stream().filter(f -> f.type() == ECALL && f.arg() == 0).count();
        List<ScriptedEnclave.Frame> echo = enclave.received.stream().filter(f -> f.type() == ECALL && f.arg() == 1).toList();
        assertEquals(221, empty);
        assertEquals(221, echo.size());
        for (ScriptedEnclave.Frame f : echo) {
            assertEquals(4096, ScriptedEnclave.u32(f.payload()), "out capacity 4 KiB");
            assertEquals(4096 + 4, f.payload().length, "4 KiB in");
        }
        CliRun text = bench("--calls", "10");
        assertEquals(0, text.status(), text.toString());
        assertTrue(text.out().contains("empty ECALL") && text.out().contains("4 KiB in, 4 KiB out"), text.out());
    }

    @Test
    void noEnclaveIsE901() throws Exception {
        Files.writeString(config, "[vsock]\nsocket = " + dir.resolve("none.sock") + "\n");
        CliRun r = bench("--calls", "10");
        assertEquals(4, r.status(), r.toString());
        assertTrue(r.err().contains("E901") && r.err().contains("NO_DEVICE (0x2006)"), r.err());
    }

    @Test
    void aRefusedModuleIsE902WithTheLoadersReason() {
        enclave.script(p -> {
            p.ok();
            p.read();
            p.send(LOADED, 0x2004, "debug module in a production enclave".getBytes(StandardCharsets.UTF_8));
        });
        CliRun r = bench("--calls", "10");
        assertEquals(7, r.status(), r.toString());
        assertTrue(r.err().contains("E902") && r.err().contains("NDEBUG_ENCLAVE (0x2004)")
                && r.err().contains("debug module in a production enclave"), r.err());
    }

    @Test
    void aModuleThatDoesNotEchoIsE903AndAHostCheckKeepsItsCode() throws Exception {
        enclave.script(new EnclaveModuleProtocolTest.Good() {
            @Override
            void ecall(ScriptedEnclave.Peer p, int index, int outCapacity, byte[] in) throws IOException {
                p.send(ECALL_RETURN, 0, new byte[0]);
            }
        });
        CliRun r = bench("--calls", "10");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("E903") && r.err().contains("not a module with ECALL 0 empty and ECALL 1 echo"),
                r.err());
        Files.copy(SignedTestModule.built("test-module.so"), module, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CliRun unsigned = bench("--calls", "10");
        assertEquals(7, unsigned.status(), unsigned.toString());
        assertTrue(unsigned.err().contains("E810"), unsigned.err());
        CliRun none = bench("--calls", "0");
        assertEquals(2, none.status(), none.toString());
        assertTrue(none.err().contains("E110"), none.err());
    }

    @Test
    void explainKnowsStatusesByValueAndName() throws Exception {
        for (String s : List.of("0x2003", "SGX_ERROR_INVALID_SIGNATURE", "invalid_signature")) {
            CliRun r = CliRun.of("explain", s);
            assertEquals(0, r.status(), r.toString());
            assertTrue(r.out().startsWith("0x2003 SGX_ERROR_INVALID_SIGNATURE: invalid signature"), r.out());
        }
        CliRun j = CliRun.of("explain", "0x1006", "-o", "json");
        JsonNode n = JSON.readTree(j.out());
        assertEquals("SGX_ERROR_ENCLAVE_CRASHED", n.get("name").asText());
        assertEquals(0x1006, n.get("value").asInt());
        CliRun unknown = CliRun.of("explain", "0x7777");
        assertEquals(2, unknown.status(), unknown.toString());
        assertTrue(unknown.err().contains("E101"), unknown.err());
        assertEquals(0, CliRun.of("explain", "E901").status());
    }
}
