package org.enclaveruntime.sdk;

import org.enclaveruntime.sdk.ScriptedEnclave.Frame;
import org.enclaveruntime.sdk.ScriptedEnclave.Peer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.enclaveruntime.sdk.ScriptedEnclave.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * libde_urts (src/sdk/urts) against the scripted enclave peer that EnclaveModuleProtocolTest uses for the Java SDK:
 * the C test program src/sdk/test/urts_test.c runs one scenario per process, once linked to the built library and
 * once with the library's sources under AddressSanitizer and UndefinedBehaviorSanitizer; the peer checks what the
 * library sends, the program what the library returns. No KVM.
 */
class UrtsProtocolTest {
    private static final Path SDK_SOURCES = Path.of("src", "sdk");
    private static final Path OUT = Path.of(System.getProperty("enclave.build.dir", "target"), "enclave-sdk");
    private static final Path TEST_OUT = Path.of(System.getProperty("enclave.build.dir", "target"), "enclave-sdk-test");

    @TempDir
    Path dir;

    @BeforeAll
    static synchronized void buildTestPrograms() throws Exception {
        Process p = new ProcessBuilder("make", "--no-print-directory", "-C", SDK_SOURCES.toString(),
                "OUT=" + OUT.toAbsolutePath(), "TEST_OUT=" + TEST_OUT.toAbsolutePath(), "test-programs")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "make test-programs took over 5 minutes");
        assertEquals(0, p.exitValue(), () -> "make test-programs failed:\n" + out);
    }

    record Run(int exit, String output) {
    }

    private Run run(String binary, String scenario, Map<String, String> env) throws Exception {
        Path module = dir.resolve("m.signed.so");
        Files.write(module, "not really a module: the peer only counts its bytes".getBytes(StandardCharsets.US_ASCII));
        return runProgram(binary, List.of(scenario, module.toString()), env);
    }

    /** Runs a test program of target/enclave-sdk-test with a clean enclave environment plus {@code env}. */
    static Run runProgram(String binary, List<String> args, Map<String, String> env) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(TEST_OUT.resolve(binary).toAbsolutePath().toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().remove("ENCLAVE_SOCKET");
        pb.environment().remove("ENCLAVE_CONF");
        pb.environment().put("DE_URTS_STALL_TIMEOUT_MS", "400");
        pb.environment().put("DE_URTS_LOAD_TIMEOUT_MS", "20000");
        pb.environment().put("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1");
        pb.environment().putAll(env);
        // Output to a file, not a pipe: reading a pipe to its end would wait as long as a hung program lives.
        java.nio.file.Path log = java.nio.file.Files.createTempFile("urts-program", ".out");
        try {
            pb.redirectOutput(log.toFile());
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                fail(cmd + " ran over a minute; its output so far:\n" + java.nio.file.Files.readString(log));
            }
            return new Run(p.exitValue(), java.nio.file.Files.readString(log));
        } finally {
            java.nio.file.Files.deleteIfExists(log);
        }
    }

    /** Runs `scenario` against a fresh peer serving `script`; returns the peer for checks of what it saw. */
    private ScriptedEnclave scenario(String binary, String scenario, ScriptedEnclave.Script script) throws Exception {
        ScriptedEnclave peer = new ScriptedEnclave(dir.resolve(scenario.substring(0, 3) + binary.length() + ".sock"),
                script);
        try (peer) {
            Run r = run(binary, scenario, Map.of("ENCLAVE_SOCKET", peer.socket.toString()));
            assertEquals(0, r.exit(), () -> binary + " " + scenario + " failed:\n" + r.output());
            assertTrue(r.output().contains(scenario + ": "), r.output());
        }
        assertEquals(List.of(), peer.problems, "what libde_urts sent broke the protocol");
        return peer;
    }

    private static EnclaveModuleProtocolTest.Good good() {
        return new EnclaveModuleProtocolTest.Good();
    }

    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void loadCallsAndDestroy(String binary) throws Exception {
        ScriptedEnclave peer = scenario(binary, "basic", good());
        List<Integer> types = peer.received.stream().map(Frame::type).toList();
        assertEquals(2, types.stream().filter(t -> t == LOAD).count(), "two modules loaded: " + types);
        assertEquals(2, types.stream().filter(t -> t == UNLOAD).count(), "both unloaded on destroy: " + types);
        assertTrue(peer.received.stream().filter(f -> f.type() == UNLOAD).allMatch(f -> f.arg() == MODULE_ID));
        assertTrue(peer.received.stream().filter(f -> f.type() == ATTACH).allMatch(f -> f.arg() == MODULE_ID));
    }

    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void aRefusedLoadGivesTheLoadersStatus(String binary) throws Exception {
        scenario(binary, "refused", p -> {
            p.ok();
            Frame f = p.read();
            assertEquals(LOAD, f.type());
            p.send(LOADED, EnclaveStatus.INVALID_SIGNATURE.code(),
                    "E812: the signature does not verify".getBytes(StandardCharsets.UTF_8));
            p.read();
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void ocallsRunTheTablesEntries(String binary) throws Exception {
        scenario(binary, "ocall", good());
    }

    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void aNestedEcallIsRefusedBeforeSending(String binary) throws Exception {
        ScriptedEnclave peer = scenario(binary, "nested", good());
        assertEquals(2, peer.received.stream().filter(f -> f.type() == ECALL).count(),
                "the nested ECALL never reached the enclave");
    }

    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void eightThreadsEachOnTheirOwnConnection(String binary) throws Exception {
        ScriptedEnclave peer = scenario(binary, "threads", good());
        assertEquals(1 + 8, peer.connections.get(), "one module connection and one call connection per thread");
        assertEquals(8 * 200, peer.received.stream().filter(f -> f.type() == ECALL).count());
    }

    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void aPeerClosingMidCallIsACrashThenTheEnclaveIsLost(String binary) throws Exception {
        ScriptedEnclave peer = scenario(binary, "crash", new EnclaveModuleProtocolTest.Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                p.ch.close();
            }
        });
        assertEquals(2, peer.connections.get(), "a lost enclave is not asked again");
    }

    /** A module connection the enclave closed (it ended): no call connection is made, the module id may be reused. */
    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void aClosedModuleConnectionMeansTheEnclaveIsLost(String binary) throws Exception {
        ScriptedEnclave peer = scenario(binary, "module-lost", p -> {
            p.ok();
            Frame f = p.read();
            assertEquals(LOAD, f.type());
            p.send(LOADED, 0, loadedPayload());
            p.ch.close();
        });
        assertEquals(1, peer.connections.get(), "no ATTACH after the enclave ended");
    }

    /** A call connection closed at once (the enclave's 64-connection limit) is SERVICE_UNAVAILABLE, not a loss. */
    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void aRefusedCallConnectionIsNotALostEnclave(String binary) throws Exception {
        java.util.concurrent.atomic.AtomicInteger attaches = new java.util.concurrent.atomic.AtomicInteger();
        EnclaveModuleProtocolTest.Good good = good();
        ScriptedEnclave peer = scenario(binary, "attach-closed", p -> {
            if (attaches.incrementAndGet() == 2) {
                p.ok(); // the first call connection (the module's is first): OK, then closed unanswered
                p.read();
                p.ch.close();
            } else {
                good.serve(p);
            }
        });
        assertEquals(3, peer.connections.get(), "module connection, the closed call connection, the next one");
    }

    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void badMessagesAreRefusedBeforeTheirPayload(String binary) throws Exception {
        ScriptedEnclave peer = scenario(binary, "bad", new EnclaveModuleProtocolTest.Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                switch (index) {
                    case 9 -> p.raw(header(0x12345678, ECALL_RETURN, 0, 0));
                    // Announces 2 GiB and sends none of it: the library must neither wait for it nor allocate it.
                    case 10 -> p.raw(header(MAGIC, ECALL_RETURN, 0x7fffffff, 0));
                    case 11 -> p.send(ECALL_RETURN, 0, new byte[outCapacity + 1]);
                    case 12 -> p.send(ATTACHED, 0, new byte[0]);
                    case 13 -> p.raw(header(MAGIC, 99, 0, 0));
                    case 14 -> p.raw(header(MAGIC, ECALL, 0, 0));
                    case 15 -> {
                        byte[] h = header(MAGIC, ECALL_RETURN, 0, 0);
                        h[6] = 1;
                        p.raw(h);
                    }
                    case 16 -> p.send(OCALL, 0, new byte[2]);
                    default -> super.ecall(p, index, outCapacity, in);
                }
            }
        });
        assertEquals(1 + 8 + 1, peer.connections.get(), "each breach closed its connection, the next call opened one");
    }

    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void aPeerStallingInTheMiddleOfAMessageTimesOut(String binary) throws Exception {
        scenario(binary, "stall", new EnclaveModuleProtocolTest.Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                switch (index) {
                    case 17 -> {
                        p.raw(java.util.Arrays.copyOf(header(MAGIC, ECALL_RETURN, 0, 0), 8));
                        p.read(); // until the library gives up and closes
                    }
                    case 18 -> {
                        p.raw(header(MAGIC, ECALL_RETURN, 8, 0), new byte[3]);
                        p.read();
                    }
                    default -> super.ecall(p, index, outCapacity, in);
                }
            }
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void anErrorMessageGivesItsStatusAndReason(String binary) throws Exception {
        scenario(binary, "error", new EnclaveModuleProtocolTest.Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                p.send(ERROR, EnclaveStatus.INVALID_ENCLAVE_ID.code(),
                        "module 7 is unloaded".getBytes(StandardCharsets.UTF_8));
                p.ch.close();
            }
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"urts-test", "urts-test-asan"})
    void destroyEndsACallInFlightOnAnotherThread(String binary) throws Exception {
        scenario(binary, "destroy-in-flight", new EnclaveModuleProtocolTest.Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                if (index == 20) {
                    p.read(); // never answers: returns when the library closes the connection
                } else {
                    super.ecall(p, index, outCapacity, in);
                }
            }
        });
    }

    /** urts-app (the KVM test's application) against a peer playing the test module's ECALLs 0, 1, 7 and 11. */
    @Test
    void theKvmTestsApplicationAgainstAPeerPlayingTheTestModule() throws Exception {
        ScriptedEnclave peer = new ScriptedEnclave(dir.resolve("app.sock"), new EnclaveModuleProtocolTest.Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                switch (index) {
                    case 7 -> {
                        p.send(OCALL, 0, EnclaveModuleProtocolTest.concat(EnclaveModuleProtocolTest.u32le(outCapacity), in));
                        Frame r = p.read();
                        assertEquals(OCALL_RETURN, r.type());
                        p.send(ECALL_RETURN, r.arg(), r.arg() == 0 ? r.payload() : new byte[0]);
                    }
                    case 0, 1 -> super.ecall(p, index, outCapacity, in);
                    default -> p.send(ECALL_RETURN, EnclaveStatus.INVALID_FUNCTION.code(), new byte[0]);
                }
            }
        });
        Path module = dir.resolve("app.signed.so");
        Files.write(module, new byte[]{1, 2, 3});
        try (peer) {
            Run r = runProgram("urts-app", List.of(module.toString()), Map.of("ENCLAVE_SOCKET", peer.socket.toString()));
            assertEquals(0, r.exit(), r.output());
            assertTrue(r.output().contains("urts-app: all calls as expected"), r.output());
        }
        assertEquals(List.of(), peer.problems);
        assertEquals(1 + 1 + 4, peer.connections.get(), "the module connection, the main thread's and 4 threads'");
    }

    @Test
    void aBridgeThatRefusesPort7000IsServiceUnavailable() throws Exception {
        scenario("urts-test", "no-service", p -> {
            // reads the CONNECT line (ScriptedEnclave did) and closes without "OK"
        });
    }

    @Test
    void noSocketIsNoDevice() throws Exception {
        Run r = run("urts-test", "no-device", Map.of("ENCLAVE_SOCKET", dir.resolve("none.sock").toString()));
        assertEquals(0, r.exit(), r.output());
        Path conf = dir.resolve("enclave.conf");
        Files.writeString(conf, "[vsock]\nsocket = relative.sock\n");
        r = run("urts-test", "no-device", Map.of("ENCLAVE_CONF", conf.toString()));
        assertEquals(0, r.exit(), "a relative [vsock] socket is refused: " + r.output());
        r = run("urts-test", "no-device", Map.of("ENCLAVE_CONF", dir.resolve("missing.conf").toString()));
        assertEquals(0, r.exit(), "a missing ENCLAVE_CONF file: " + r.output());
    }

    @Test
    void theSocketComesFromEnclaveConfsVsockSection() throws Exception {
        ScriptedEnclave peer = new ScriptedEnclave(dir.resolve("conf.sock"), good());
        try (peer) {
            Path conf = dir.resolve("enclave.conf");
            Files.writeString(conf, "\uFEFF; written by the test\n[enclave]\nsocket = /not/this/one\n"
                    + "memory = 2G   # not read\n\n[vsock]\n# the one key read\nsocket = " + peer.socket
                    + "   ; a comment after the value\ngroup = enclave\n");
            Run r = run("urts-test", "basic", Map.of("ENCLAVE_CONF", conf.toString()));
            assertEquals(0, r.exit(), r.output());
        }
        assertEquals(List.of(), peer.problems);
        assertTrue(peer.connections.get() > 2, "the library connected to the configured socket");
    }

    /** The untrusted bridges the EDL generator writes (golden Minimal_u.c) build and call through the library. */
    @Test
    void aGeneratedBridgeCallsThroughTheLibrary() throws Exception {
        Path golden = Path.of("src/test/resources/edl/golden/Minimal");
        Path main = dir.resolve("main.c");
        Files.writeString(main, """
                #include <stdio.h>
                #include "sgx_urts.h"
                #include "Minimal_u.h"
                int main(int argc, char **argv) {
                    sgx_enclave_id_t eid;
                    (void)argc;
                    sgx_status_t s = sgx_create_enclave(argv[1], SGX_DEBUG_FLAG, NULL, NULL, &eid, NULL);
                    if (s == SGX_SUCCESS)
                        s = ecall_empty(eid);
                    if (s == SGX_SUCCESS)
                        s = sgx_destroy_enclave(eid);
                    printf("minimal: %s\\n", sgx_status_name(s));
                    return s == SGX_SUCCESS ? 0 : 1;
                }
                """);
        Path exe = dir.resolve("minimal");
        Path lib = OUT.resolve("lib").toAbsolutePath();
        Process cc = new ProcessBuilder("gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                "-I", OUT.resolve("include").toAbsolutePath().toString(), "-I", golden.toAbsolutePath().toString(),
                "-o", exe.toString(), main.toString(), golden.resolve("Minimal_u.c").toAbsolutePath().toString(),
                "-L", lib.toString(), "-Wl,-rpath," + lib, "-lde_urts").redirectErrorStream(true).start();
        String ccOut = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(cc.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, cc.exitValue(), ccOut);
        ScriptedEnclave peer = new ScriptedEnclave(dir.resolve("min.sock"), good());
        Path module = dir.resolve("min.signed.so");
        Files.write(module, new byte[]{7});
        try (peer) {
            ProcessBuilder pb = new ProcessBuilder(exe.toString(), module.toString()).redirectErrorStream(true);
            pb.environment().remove("ENCLAVE_CONF");
            pb.environment().put("ENCLAVE_SOCKET", peer.socket.toString());
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
        }
        assertEquals(List.of(), peer.problems);
        assertTrue(peer.received.stream().anyMatch(f -> f.type() == ECALL && f.arg() == 0), "ecall_empty is ECALL 0");
    }

    /**
     * sgx_error.h agrees with EnclaveStatus, name for name and value for value, up to its SGX_COMPAT block (SGX
     * values nothing here returns, kept for SGX code that names them, none of them a Java status); sgx_status_name
     * names all of them.
     */
    @Test
    void theCStatusesAreTheJavaOnes() throws Exception {
        Map<String, Integer> java = new TreeMap<>();
        for (EnclaveStatus s : EnclaveStatus.values()) {
            java.put(s.sgxName(), s.code());
        }
        String text = Files.readString(SDK_SOURCES.resolve("include/sgx_error.h"));
        int compatAt = text.indexOf("SGX_COMPAT:");
        assertTrue(compatAt > 0, "sgx_error.h has its SGX_COMPAT block");
        Map<String, Integer> header = statuses(text.substring(0, compatAt));
        Map<String, Integer> compat = statuses(text.substring(compatAt));
        assertEquals(java, header, "sgx_error.h");
        assertTrue(compat.size() >= 7, compat.toString());
        compat.forEach((name, value) -> {
            assertTrue(!java.containsKey(name) && !java.containsValue(value), name + " is a Java status, not compat");
        });
        Map<String, Integer> all = new TreeMap<>(java);
        all.putAll(compat);
        Run r = run("urts-test", "names", Map.of());
        assertEquals(0, r.exit(), r.output());
        Map<String, Integer> names = new HashMap<>();
        List<String> extra = new ArrayList<>();
        for (String line : r.output().split("\n")) {
            String[] f = line.split(" ");
            if (f.length == 2 && f[0].startsWith("0x")) {
                names.put(f[1], Integer.decode(f[0]));
            } else if (!line.startsWith("names: ")) {
                extra.add(line);
            }
        }
        assertEquals(all, new TreeMap<>(names), "sgx_status_name");
        assertEquals(List.of(), extra);
    }

    private static Map<String, Integer> statuses(String headerText) {
        Map<String, Integer> found = new TreeMap<>();
        Matcher m = Pattern.compile("(SGX_\\w+) = SGX_MK_ERROR\\((0x[0-9a-fA-F]+)\\)").matcher(headerText);
        while (m.find()) {
            found.put(m.group(1), Integer.decode(m.group(2)));
        }
        return found;
    }
}
