package org.enclaveruntime.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.cli.EnclaveCtl;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `enclavectl image ...` end to end: exit statuses, JSON output, messages. */
class ImageCliTest {
    @TempDir
    static Path shared;
    static Path runtime;
    static TestKeys keys;

    @TempDir
    Path dir;

    record Result(int status, String out, String err) {
        /**
         * The JSON document on stdout. Without a logback configuration (none on this branch), logback's
         * default sends the error reporter's debug line to stdout ahead of it; the lead configures logging.
         */
        JsonNode json() throws Exception {
            int start = out.startsWith("{") ? 0 : out.indexOf("\n{") + 1;
            return new ObjectMapper().readTree(out.substring(start));
        }
    }

    @BeforeAll
    static void setUp() throws Exception {
        runtime = TestElf.compiled(shared);
        keys = new TestKeys(shared);
    }

    static synchronized Result run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int status = EnclaveCtl.run(args);
            return new Result(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private Path build(String... extra) {
        Path image = dir.resolve("image.bin");
        List<String> args = new java.util.ArrayList<>(List.of("image", "build", "--runtime", runtime.toString(),
                "--name", "demo", "--version", "0.1.0", "--out", image.toString()));
        args.addAll(List.of(extra));
        Result r = run(args.toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("pcr0 "), r.out());
        return image;
    }

    @Test
    void buildThenDescribeAsJson() throws Exception {
        Path image = build("--memory", "256MiB", "--cpu-count", "2");
        Result r = run("image", "describe", image.toString(), "--output", "json");
        assertEquals(0, r.status(), r.err());
        JsonNode json = r.json();
        EnclaveImage read = EnclaveImage.open(image);
        assertEquals(ReferenceMeasurements.of(Files.readAllBytes(image)), List.of(
                json.at("/measurements/pcr0").asText(), json.at("/measurements/pcr1").asText(),
                json.at("/measurements/pcr2").asText(), json.at("/measurements/pcr8").asText()));
        for (String pcr : List.of("pcr0", "pcr1", "pcr2", "pcr8")) {
            assertTrue(json.at("/measurements/" + pcr).asText().matches("[0-9a-f]{96}"));
        }
        assertEquals(256, json.at("/defaults/memory_mib").asInt());
        assertEquals(2, json.at("/defaults/cpu_count").asInt());
        assertEquals("RUNTIME", json.at("/sections/0/type").asText());
        assertEquals(4096, json.at("/sections/0/offset").asLong());
        assertEquals(read.sections().get(0).sha384().hex(), json.at("/sections/0/sha384").asText());
        assertEquals("demo", json.at("/metadata/name").asText());
        assertTrue(json.get("signature").isNull());
        Result text = run("image", "describe", image.toString());
        assertTrue(text.out().contains("not signed") && text.out().contains(read.measurements().pcr0().hex()), text.out());
    }

    @Test
    void buildIsDeterministicAcrossRuns() throws Exception {
        byte[] first = Files.readAllBytes(build());
        byte[] second = Files.readAllBytes(build());
        assertArrayEquals(first, second);
    }

    @Test
    void signAndVerify() throws Exception {
        Path image = build();
        Result unsigned = run("image", "verify", image.toString());
        assertEquals(0, unsigned.status(), unsigned.err());
        assertTrue(unsigned.out().contains("not signed"));
        Result required = run("image", "verify", image.toString(), "--cert", keys.caCert.toString());
        assertEquals(7, required.status());
        assertTrue(required.err().contains("error E511"), required.err());

        Result sign = run("image", "sign", "--key", keys.leafKey.toString(), "--cert", keys.leafCert.toString(),
                image.toString());
        assertEquals(0, sign.status(), sign.err());
        Result ok = run("image", "verify", image.toString(), "--cert", keys.caCert.toString(), "--output", "json");
        assertEquals(0, ok.status(), ok.err());
        JsonNode json = ok.json();
        assertTrue(json.get("valid").asBoolean() && json.get("signed").asBoolean());
        assertEquals("CN=test-signer", json.get("signer").asText());
        assertEquals(EnclaveImage.open(image).measurements().pcr8().hex(), json.at("/measurements/pcr8").asText());

        Result wrong = run("image", "verify", image.toString(), "--cert", keys.otherCaCert.toString(), "--output", "json");
        assertEquals(7, wrong.status());
        assertEquals("E513", wrong.json().at("/error/code").asText());

        byte[] bytes = Files.readAllBytes(image);
        bytes[5000] ^= 1;
        Files.write(image, bytes);
        Result tampered = run("image", "verify", image.toString());
        assertEquals(7, tampered.status());
        assertTrue(tampered.err().contains("error E507") && tampered.err().contains("RUNTIME"), tampered.err());
    }

    @Test
    void errorsHaveTheirCodesAndExitStatuses() {
        Result missing = run("image", "describe", dir.resolve("none.bin").toString());
        assertEquals(7, missing.status());
        assertTrue(missing.err().contains("error E500") && missing.err().contains("none.bin"), missing.err());
        Result noKernel = run("image", "build", "--runtime", runtime.toString(), "--initrd", runtime.toString(),
                "--out", dir.resolve("x.bin").toString());
        assertEquals(7, noKernel.status());
        assertTrue(noKernel.err().contains("error E515"), noKernel.err());
        assertTrue(Files.notExists(dir.resolve("x.bin")));
        Result badSize = run("image", "build", "--runtime", runtime.toString(), "--memory", "lots",
                "--out", dir.resolve("x.bin").toString());
        assertEquals(3, badSize.status(), badSize.err());
        Result bareNumber = run("image", "build", "--runtime", runtime.toString(), "--memory", "512",
                "--out", dir.resolve("x.bin").toString());
        assertEquals(3, bareNumber.status(), bareNumber.err());
        assertTrue(bareNumber.err().contains("has no unit; add a unit, e.g. 512M"), bareNumber.err());
        assertEquals(0, run("image", "build", "--help").status());
        assertEquals(0, run("explain", "E510").status());
        Result none = run("image");
        assertEquals(2, none.status());
    }

    @Test
    void outIsTheFileAndDashOIsTheOutputFormat() throws Exception {
        Path image = dir.resolve("out.bin");
        Result asFile = run("image", "build", "--runtime", runtime.toString(), "-o", image.toString());
        assertEquals(2, asFile.status(), asFile.toString());
        assertTrue(asFile.err().contains("error E110") && asFile.err().contains("--output"), asFile.err());
        assertTrue(Files.notExists(image));

        Result built = run("image", "build", "--runtime", runtime.toString(), "--out", image.toString(), "-o", "json");
        assertEquals(0, built.status(), built.err());
        JsonNode b = built.json();
        assertEquals(image.toString(), b.get("path").asText());
        assertEquals(Files.size(image), b.get("size").asLong());
        assertEquals(EnclaveImage.open(image).measurements().pcr0().hex(), b.at("/measurements/pcr0").asText());
        assertTrue(b.get("signer").isNull());

        Path signedCopy = dir.resolve("signed.bin");
        Result signed = run("image", "sign", "--key", keys.leafKey.toString(), "--cert", keys.leafCert.toString(),
                image.toString(), "--out", signedCopy.toString(), "--output", "json");
        assertEquals(0, signed.status(), signed.err());
        assertEquals(signedCopy.toString(), signed.json().get("path").asText());
        assertEquals("CN=test-signer", signed.json().get("signer").asText());
        assertEquals(EnclaveImage.open(signedCopy).measurements().pcr8().hex(), signed.json().at("/measurements/pcr8").asText());
        assertTrue(EnclaveImage.open(image).signature().isEmpty(), "--out leaves the input as it was");
    }

    /** What a user reads about a file that cannot be used: the path they gave and the reason, no Java words. */
    @Test
    void fileErrorsNameNoJavaExceptionAndNoTemporaryFile() throws Exception {
        Path aDirectory = Files.createDirectories(dir.resolve("a-directory"));
        Path missingDir = dir.resolve("missing").resolve("image.bin");
        List<String[]> commands = List.of(
                new String[] {"image", "build", "--runtime", runtime.toString(), "--out", missingDir.toString()},
                new String[] {"image", "build", "--runtime", runtime.toString(), "--out", aDirectory.toString()},
                new String[] {"image", "build", "--runtime", aDirectory.toString(), "--out", dir.resolve("x").toString()},
                new String[] {"image", "describe", aDirectory.toString()},
                new String[] {"image", "sign", "--key", aDirectory.toString(), "--cert", aDirectory.toString(),
                        dir.resolve("x").toString()},
                new String[] {"--config", aDirectory.toString(), "config", "check"},
                new String[] {"--config", dir.resolve("none.conf").toString(), "config", "check"});
        for (String[] args : commands) {
            Result r = run(args);
            assertTrue(r.status() > 0, List.of(args) + ": " + r.err());
            String firstLine = r.err().lines().findFirst().orElse("");
            assertTrue(firstLine.startsWith("error E"), firstLine);
            assertFalse(r.err().matches("(?s).*(Exception|java\\.|\\.tmp\\b).*"), List.of(args) + ": " + r.err());
        }
    }
}
