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
    static Path shared;
    private static Path build;
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

    /** The samples built once for this class, from a clean directory, as a user builds them. */
    private static synchronized Path built() {
        if (build == null) {
            Path b = shared.resolve("build");
            SampleBuild.Run r = SampleBuild.cmake(SampleBuild.SAMPLES, b, SampleBuild.enclavectlScript(shared),
                    "-DEnclaveSDK_JAR=" + SampleBuild.apiJar(shared));
            assertEquals(0, r.exit(), r::toString);
            build = b;
        }
        return build;
    }

    @Test
    void buildsGeneratesAndSignsFromACleanDirectory() throws Exception {
        Path build = built();

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

    /**
     * The module's own code, on the host: enclave.so loaded with dlopen (its imports bind to libc's memcpy and
     * memset and to the harness's stubs of the runtime's own entries), its ECALL 0 called through enclave_ecalls with the bytes the untrusted bridge sends
     * (docs/sdk-edl.md "Marshalling": per [in] int[2], a u64 length 8 and the 8 bytes), the double it answers printed.
     */
    @Test
    void moduleComputesTheDistanceItsBridgeAnswers() throws Exception {
        Path build = built();
        Path harness = dir.resolve("harness.c");
        Files.writeString(harness, """
                #include <dlfcn.h>
                #include <stdint.h>
                #include <stdio.h>
                #include <stdlib.h>
                #include <string.h>
                typedef uint32_t (*ecall_t)(const void *, size_t, void *, size_t, size_t *);
                /* The runtime API entries libde_trts imports beside libc's (src/guest/modapi.c); unused by this ECALL. */
                void *enclave_heap_alloc(size_t len) { (void)len; return NULL; }
                int enclave_heap_free(void *p) { (void)p; return -1; }
                int enclave_module_range(uint64_t *base, uint64_t *size) { *base = 0; *size = 0; return -1; }
                int main(int argc, char **argv) {
                    void *m = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
                    if (!m) { fprintf(stderr, "%s\\n", dlerror()); return 2; }
                    const struct { uint64_t count; ecall_t fn[]; } *t = dlsym(m, "enclave_ecalls");
                    if (!t || t->count != 1) { fprintf(stderr, "no enclave_ecalls with one entry\\n"); return 2; }
                    for (int i = 2; i + 3 < argc; i += 4) {
                        uint64_t in[4] = {8, 0, 8, 0};
                        int32_t a[2] = {atoi(argv[i]), atoi(argv[i + 1])}, b[2] = {atoi(argv[i + 2]), atoi(argv[i + 3])};
                        memcpy(&in[1], a, 8);
                        memcpy(&in[3], b, 8);
                        double out = -1;
                        size_t out_len = 0;
                        uint32_t status = t->fn[0](in, sizeof in, &out, sizeof out, &out_len);
                        printf("%u %zu %.17g\\n", status, out_len, out);
                    }
                    return 0;
                }
                """);
        Path exe = dir.resolve("harness");
        SampleBuild.Run cc = SampleBuild.run(List.of("gcc", "-O1", "-Wall", "-rdynamic", "-o", exe.toString(), harness.toString(), "-ldl"),
                dir, Map.of(), 60);
        assertEquals(0, cc.exit(), cc::toString);
        int[][] points = {{3, 4, 1, 8}, {6, 9, 6, 2}, {3, 3, 7, 5}, {-5, 0, 7, -9}, {0, 0, 0, 0}, {46340, 0, -46340, 1}};
        List<String> command = new java.util.ArrayList<>(List.of(exe.toString(),
                build.resolve("SampleMath/Enclave/enclave.so").toString()));
        for (int[] p : points) {
            for (int v : p) {
                command.add(Integer.toString(v));
            }
        }
        SampleBuild.Run run = SampleBuild.run(command, dir, Map.of(), 60);
        assertEquals(0, run.exit(), run::toString);
        String[] lines = run.out().split("\n");
        assertEquals(points.length, lines.length, run::toString);
        for (int i = 0; i < points.length; i++) {
            int[] p = points[i];
            double dx = (double) p[0] - p[2];
            double dy = (double) p[1] - p[3];
            String[] f = lines[i].split(" ");
            assertEquals("0", f[0], "SGX_SUCCESS for " + java.util.Arrays.toString(p));
            assertEquals("8", f[1], "a double back");
            assertEquals(Math.sqrt(dx * dx + dy * dy), Double.parseDouble(f[2]), 0.0,
                    "the distance, exactly (sqrt is correctly rounded), for " + java.util.Arrays.toString(p));
        }
    }

    /** SampleMathJava prints a double as `std::cout << d` does (%g): compared with C++ itself, value by value. */
    @Test
    void javaTwinFormatsDoublesAsIostreamsDo() throws Exception {
        double[] values = {Math.sqrt(20), 7, 0, -0.0, 1, 0.5, 1.0 / 3, 2.0 / 3, 123456.4, 123456.5, 999999.4, 999999.5,
                1e6, 1234567, 1e-4, 0.00012345678, 9.99999e-5, 1e-5, 1e21, 6.02214076e23, -4.47213595499958, 1e300,
                Double.MIN_VALUE, Double.MAX_VALUE, 0.1 + 0.2, 100, 12345.65, 1.5e-7};
        Path cpp = dir.resolve("print.cpp");
        Files.writeString(cpp, """
                #include <cstdlib>
                #include <iostream>
                int main(int argc, char **argv) {
                    for (int i = 1; i < argc; i++)
                        std::cout << std::strtod(argv[i], nullptr) << "\\n";
                }
                """);
        Path exe = dir.resolve("print");
        SampleBuild.Run cc = SampleBuild.run(List.of("g++", "-o", exe.toString(), cpp.toString()), dir, Map.of(), 60);
        assertEquals(0, cc.exit(), cc::toString);
        List<String> command = new java.util.ArrayList<>(List.of(exe.toString()));
        for (double v : values) {
            command.add(Double.toHexString(v));   // exact: strtod reads hexadecimal floating point
        }
        SampleBuild.Run cout = SampleBuild.run(command, dir, Map.of(), 60);
        assertEquals(0, cout.exit(), cout::toString);
        String[] expected = cout.out().split("\n");
        assertEquals(values.length, expected.length, cout::toString);

        try (java.net.URLClassLoader loader = new java.net.URLClassLoader(
                new java.net.URL[] {built().resolve("SampleMath/java/SampleMathJava.jar").toUri().toURL()},
                getClass().getClassLoader())) {
            java.lang.reflect.Method format = loader.loadClass("samplemath.SampleMathJava")
                    .getDeclaredMethod("iostreamDefault", double.class);
            format.setAccessible(true);
            for (int i = 0; i < values.length; i++) {
                assertEquals(expected[i], format.invoke(null, values[i]), "std::cout << " + values[i]);
            }
        }
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
