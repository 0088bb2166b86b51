package org.enclaveruntime.samples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.cli.CliRun;
import org.enclaveruntime.image.Sha384;
import org.enclaveruntime.module.ModuleKeys;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SampleMath built with CMake from a clean directory (docs/sdk.md, "SampleMath"): the EnclaveSDK package's
 * functions generate the bridges, build the module and the app and sign the module, and the results are what
 * the docs say. Running it against an enclave is SampleMathKvmTest.
 */
class SampleMathBuildTest {
    /** The runtime API table, version 2 (src/guest/modapi.c, docs/module-runtime.md section 2): all a module may import. */
    private static final Set<String> RUNTIME_API = Set.of("enclave_api_version", "enclave_api_print", "enclave_ocall",
            "enclave_heap_alloc", "enclave_heap_free", "enclave_module_range", "memcpy", "memmove", "memset", "memcmp",
            "strlen");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @BeforeEach
    void tools() {
        String missing = SampleBuild.missingTool();
        Assumptions.assumeTrue(missing == null, () -> "the samples cannot be built here: " + missing);
        for (String lib : List.of("lib/libde_urts.so", "lib/libde_trts.a", "lib/cmake/EnclaveSDK/EnclaveSDKConfig.cmake")) {
            assertTrue(Files.isRegularFile(SampleBuild.SDK.resolve(lib)),
                    () -> SampleBuild.SDK.resolve(lib) + " is not built (mvn generate-resources builds the SDK tree)");
        }
    }

    private static JsonNode describe(Path module) throws Exception {
        CliRun r = CliRun.of("module", "describe", "-o", "json", module.toString());
        assertEquals(0, r.status(), r::toString);
        return JSON.readTree(r.out());
    }

    @Test
    void buildsGeneratesAndSignsFromACleanDirectory() throws Exception {
        Path build = dir.resolve("build");
        SampleBuild.Run r = SampleBuild.cmake(SampleBuild.SAMPLES, build, SampleBuild.enclavectlScript(dir));
        assertEquals(0, r.exit(), r::toString);

        Path app = build.resolve("SampleMath/App/app");
        Path unsigned = build.resolve("SampleMath/Enclave/enclave.so");
        Path signed = build.resolve("SampleMath/Enclave/enclave.signed.so");
        assertTrue(Files.isExecutable(app), "the app: " + app);
        for (String generated : List.of("Enclave/Enclave_t.c", "Enclave/Enclave_t.h", "App/Enclave_u.c", "App/Enclave_u.h",
                "java/samplemath/EnclaveProxy.java", "java/SampleMathJava.jar")) {
            assertTrue(Files.isRegularFile(build.resolve("SampleMath").resolve(generated)), generated + " was generated");
        }
        assertArrayEquals(Files.readAllBytes(signed), Files.readAllBytes(build.resolve("SampleMath/App/enclave.signed.so")),
                "the app's directory has the signed enclave too");

        JsonNode s = describe(signed);
        JsonNode u = describe(unsigned);
        assertTrue(s.path("signed").asBoolean(), s::toString);
        assertFalse(u.path("signed").asBoolean(), "enclave.so stays unsigned next to it: " + u);
        assertEquals(u.path("mrenclave").asText(), s.path("mrenclave").asText(), "signing measures enclave.so as it is");
        byte[] key = ModuleKeys.readSigningKey(SampleBuild.SAMPLES.resolve("SampleMath/Enclave/Enclave_private_sample.pem"))
                .publicKey().getEncoded();
        assertEquals(Sha384.digest(key).hex(), s.path("mrsigner").asText(), "signed with the sample key");
        assertEquals("RSA-3072", s.path("key_type").asText());
        assertFalse(s.path("debug").asBoolean(), "DisableDebug 1: loads into production enclaves too");
        assertEquals(1, s.path("tcs_num").asInt(), "Enclave.config.xml's TCSNum");
        for (JsonNode i : s.path("imports")) {
            assertTrue(RUNTIME_API.contains(i.asText()), "import " + i + " is in the runtime API table: " + s);
        }
        CliRun verify = CliRun.of("module", "verify", "--key",
                SampleBuild.SAMPLES.resolve("SampleMath/Enclave/Enclave_private_sample.pem").toString(), signed.toString());
        assertEquals(0, verify.status(), verify::toString);

        // Nothing changed: a second build regenerates and re-signs nothing.
        SampleBuild.Run again = SampleBuild.run(List.of("cmake", "--build", build.toString()), dir, Map.of(), 120);
        assertEquals(0, again.exit(), again::toString);
        assertFalse(again.out().contains("edger8r:") || again.out().contains("module sign"), again::toString);

        // Without an enclave the app fails as an SGX app does when the driver is missing, naming the status.
        SampleBuild.Run none = SampleBuild.run(List.of(app.toString()), dir,
                Map.of("ENCLAVE_SOCKET", dir.resolve("no-enclave.sock").toString()), 60);
        assertNotEquals(0, none.exit(), none::toString);
        assertTrue(none.err().contains("SGX_ERROR_NO_DEVICE"), none::toString);
        assertEquals("", none.out(), "nothing printed as a result");

        // The Java twin finds the enclave as the SDK does (ENCLAVE_CONF's [vsock] socket) and fails the same way.
        Path conf = dir.resolve("enclave.conf");
        Files.writeString(conf, "[vsock]\nsocket = " + dir.resolve("no-enclave.sock") + "\n");
        SampleBuild.Run javaNone = SampleBuild.run(javaTwin(build), dir, Map.of("ENCLAVE_CONF", conf.toString()), 120);
        assertNotEquals(0, javaNone.exit(), javaNone::toString);
        assertTrue(javaNone.err().contains("NO_DEVICE") && javaNone.err().contains("no-enclave.sock"), javaNone::toString);
    }

    /** The documented command that runs SampleMathJava from the build tree (docs/sdk.md, "SampleMath"). */
    static List<String> javaTwin(Path build) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "-cp", System.getProperty("java.class.path") + ":" + build.resolve("SampleMath/java/SampleMathJava.jar"),
                "samplemath.SampleMathJava", build.resolve("SampleMath/Enclave/enclave.signed.so").toString());
    }

    @Test
    void functionsRefuseIncompleteArgumentsAtConfigureTime() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("CMakeLists.txt"), """
                cmake_minimum_required(VERSION 3.16)
                project(Refused LANGUAGES C)
                find_package(EnclaveSDK REQUIRED)
                file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/m.c "int x;\\n")
                add_enclave_module(m SOURCES ${CMAKE_CURRENT_BINARY_DIR}/m.c)
                enclave_sign(m CONFIG Enclave.config.xml)
                """);
        SampleBuild.Run r = SampleBuild.cmake(src, dir.resolve("build"), SampleBuild.enclavectlScript(dir));
        assertNotEquals(0, r.exit(), r::toString);
        assertTrue(r.err().contains("enclave_sign(m): KEY <key.pem> and CONFIG <Enclave.config.xml> are required"),
                r::toString);

        SampleBuild.Run noCli = SampleBuild.cmake(src, dir.resolve("build2"), dir.resolve("no-such-enclavectl"));
        assertNotEquals(0, noCli.exit(), noCli::toString);
        assertTrue(noCli.err().contains("lacks enclavectl"), noCli::toString);
    }
}
