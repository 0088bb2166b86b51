package org.enclaveruntime.sdk.edl;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The strongest test of the generator: RoundTrip.edl's bridges compiled with gcc (warnings are errors, with
 * AddressSanitizer and UBSan when the host has them), the trusted half as a shared object like a module and
 * the untrusted half in the executable that loads it, calling every ECALL and, from inside, every OCALL, then
 * feeding hostile buffers to the trusted bridges (host.c).
 */
class RoundTripBuildTest {
    static final Path CORPUS = Path.of("src/test/resources/edl");
    static final Path SDK_INCLUDE = Path.of("src/sdk/include");

    @TempDir
    Path work;

    @Test
    void everyAttributeSurvivesARealCallInBothDirections() throws Exception {
        Assumptions.assumeTrue(run(work, List.of("gcc", "--version")).exit == 0, "gcc is not installed");
        Path src = CORPUS.resolve("roundtrip");
        Edger8r.Result r = Edger8r.run(new Edger8r.Request(src.resolve("RoundTrip.edl"),
                List.of(src.resolve("lib")), true, true, work, work, null, null));
        assertEquals(22, r.ecalls());
        assertEquals(12, r.ocalls());
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("transition_using_threads")), r.warnings().toString());

        Files.writeString(work.resolve("probe.c"), "int main(void) { return 0; }\n");
        List<String> sanitize = run(work, List.of("gcc", "-fsanitize=address,undefined", "-o",
                work.resolve("probe").toString(), work.resolve("probe.c").toString())).exit == 0 ? List.of("-fsanitize=address,undefined",
                "-fno-sanitize-recover=all") : List.of();
        List<String> common = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
                "-I", work.toString(), "-I", SDK_INCLUDE.toAbsolutePath().toString(),
                "-I", CORPUS.resolve("stub-include").toAbsolutePath().toString(),
                "-I", src.toAbsolutePath().toString()));
        common.addAll(sanitize);

        List<String> module = new ArrayList<>(common);
        module.addAll(List.of("-fPIC", "-shared", "-fvisibility=hidden", "-o", work.resolve("enclave.so").toString(),
                src.resolve("enclave.c").toAbsolutePath().toString(), work.resolve("RoundTrip_t.c").toString()));
        Proc m = run(work, module);
        assertEquals(0, m.exit, "compiling the trusted half failed:\n" + m.output);

        List<String> host = new ArrayList<>(common);
        host.addAll(List.of("-rdynamic", "-o", work.resolve("host").toString(),
                src.resolve("host.c").toAbsolutePath().toString(), work.resolve("RoundTrip_u.c").toString(), "-ldl"));
        Proc h = run(work, host);
        assertEquals(0, h.exit, "compiling the untrusted half failed:\n" + h.output);

        Proc out = run(work, List.of(work.resolve("host").toString(), work.resolve("enclave.so").toString()));
        assertEquals(0, out.exit, out.output);
        assertTrue(out.output.contains("PASSED"), out.output);
    }

    record Proc(int exit, String output) {
    }

    static Proc run(Path dir, List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("ASAN_OPTIONS", "detect_leaks=1");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Proc(127, e.getMessage());
        }
        byte[] all = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Proc(-1, "timed out: " + cmd);
        }
        return new Proc(p.exitValue(), new String(all, StandardCharsets.UTF_8));
    }
}
