package org.enclaveruntime.module;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.cli.EnclaveCtl;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.image.Sha384;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `enclavectl module sign|describe|verify` end to end, with keys openssl made, on the built test module. */
class ModuleSigningTest {
    @TempDir
    static Path shared;
    static ModuleTestKeys keys;
    static Path config;

    @TempDir
    Path dir;

    record Result(int status, String out, String err) {
        /** The JSON document on stdout (a logging line may come first on a branch without logback config). */
        JsonNode json() throws Exception {
            int start = out.startsWith("{") ? 0 : out.indexOf("\n{") + 1;
            return new ObjectMapper().readTree(out.substring(start));
        }
    }

    @BeforeAll
    static void setUp() throws Exception {
        keys = new ModuleTestKeys(shared);
        config = Files.writeString(shared.resolve("Enclave.config.xml"), """
                <EnclaveConfiguration>
                  <ProdID>0x12</ProdID>
                  <ISVSVN>4</ISVSVN>
                  <StackMaxSize>0x8000</StackMaxSize>
                  <HeapMaxSize>0x200000</HeapMaxSize>
                  <TCSNum>8</TCSNum>
                  <DisableDebug>1</DisableDebug>
                </EnclaveConfiguration>
                """);
    }

    @ParameterizedTest
    @ValueSource(strings = {"rsa", "rsaPkcs1", "ec", "ecSec1"})
    void signDescribeVerifyRoundTrip(String which) throws Exception {
        Path key = switch (which) {
            case "rsa" -> keys.rsa;
            case "rsaPkcs1" -> keys.rsaPkcs1;
            case "ec" -> keys.ec;
            default -> keys.ecSec1;
        };
        Path unsigned = Files.copy(TestModule.path(), dir.resolve("enclave.so"));
        byte[] before = Files.readAllBytes(unsigned);
        Path signed = dir.resolve("enclave.signed.so");
        Result sign = run("module", "sign", "--key", key.toString(), "--config", config.toString(),
                unsigned.toString(), "--out", signed.toString(), "-o", "json");
        assertEquals(0, sign.status(), sign.toString());
        assertArrayEquals(before, Files.readAllBytes(unsigned), "the unsigned module stays as it was");

        JsonNode d = run("module", "describe", "--output", "json", signed.toString()).json();
        assertTrue(d.path("signed").asBoolean(), d.toString());
        assertEquals(ModuleElf.parse(before, "m").measurement().hex(), d.path("mrenclave").asText());
        byte[] spki = Files.readAllBytes(ModuleTestKeys.publicDer(key));
        assertEquals(Sha384.digest(spki).hex(), d.path("mrsigner").asText(), "MRSIGNER = SHA-384 of openssl's DER SPKI");
        assertEquals(which.startsWith("rsa") ? "RSA-3072" : "ECDSA-P384", d.path("key_type").asText());
        assertEquals(0x12, d.path("prod_id").asInt());
        assertEquals(4, d.path("isv_svn").asInt());
        assertFalse(d.path("debug").asBoolean());
        assertEquals(0x200000, d.path("heap_max_size").asLong());
        assertEquals(0x8000, d.path("stack_max_size").asLong());
        assertEquals(8, d.path("tcs_num").asLong());

        Result verify = run("module", "verify", signed.toString(), "--key", ModuleTestKeys.publicPem(key).toString());
        assertEquals(0, verify.status(), verify.toString());
        Result other = run("module", "verify", signed.toString(), "--key", keys.otherEc.toString(), "-o", "json");
        assertEquals(7, other.status(), other.toString());
        assertEquals("E813", other.json().at("/error/code").asText());
    }

    @Test
    void verifyAgainstACertificate() throws Exception {
        Path signed = signed(keys.ec);
        assertEquals(0, run("module", "verify", signed.toString(), "--cert", keys.ecCert.toString()).status());
        Path byOther = signed(keys.otherEc);
        Result r = run("module", "verify", byOther.toString(), "--cert", keys.ecCert.toString());
        assertEquals(7, r.status());
        assertTrue(r.err().contains("E813"), r.toString());
    }

    @Test
    void aFlippedCodeByteInASignedModuleIsAMeasurementMismatch() throws Exception {
        byte[] signed = Files.readAllBytes(signed(keys.ec));
        signed[TestModule.find(signed, new byte[] {0x34, 0x12, (byte) 0xed, 0x5e})] ^= 1;
        assertEquals(ModuleErrors.MEASUREMENT_MISMATCH, refusal(signed).code());
    }

    @Test
    void aChangedIgnoredSectionStillVerifies() throws Exception {
        Path path = signed(keys.rsa);
        byte[] signed = Files.readAllBytes(path);
        String before = run("module", "describe", "-o", "json", path.toString()).json().path("mrenclave").asText();
        signed[TestModule.find(signed, "GCC: (".getBytes(StandardCharsets.US_ASCII)) + 1] ^= 0x20;
        Files.write(path, signed);
        Result after = run("module", "verify", "-o", "json", path.toString());
        assertEquals(0, after.status(), after.toString());
        assertEquals(before, after.json().at("/module/mrenclave").asText());
    }

    @Test
    void changedSignedFieldsBreakTheSignature() throws Exception {
        byte[] signed = Files.readAllBytes(signed(keys.ec));
        int start = signed.length - (int) TestModule.le(signed).getLong(signed.length - 16);
        byte[] prodId = signed.clone();
        prodId[start + 40] ^= 1;
        assertEquals(ModuleErrors.BAD_SIGNATURE, refusal(prodId).code());
        byte[] debug = signed.clone();
        debug[start + 36] ^= 1; // DisableDebug 1 -> debug allowed
        assertEquals(ModuleErrors.BAD_SIGNATURE, refusal(debug).code());
        byte[] mrsigner = signed.clone();
        mrsigner[start + 112] ^= 1;
        assertEquals(ModuleErrors.BAD_SIGNATURE, refusal(mrsigner).code());
        byte[] signature = signed.clone();
        signature[signed.length - 20] ^= 1;
        assertEquals(ModuleErrors.BAD_SIGNATURE, refusal(signature).code());
        byte[] reserved = signed.clone();
        reserved[start + 170] = 1;
        assertEquals(ModuleErrors.BAD_SIGNATURE_BLOCK, refusal(reserved).code());
        byte[] version = signed.clone();
        version[start + 8] = 2;
        assertEquals(ModuleErrors.BAD_SIGNATURE_BLOCK, refusal(version).code());
    }

    @Test
    void anUnsignedModuleDescribesButDoesNotVerify() throws Exception {
        Result d = run("module", "describe", "-o", "json", TestModule.path().toString());
        assertEquals(0, d.status(), d.toString());
        assertFalse(d.json().path("signed").asBoolean());
        Result v = run("module", "verify", TestModule.path().toString(), "-o", "json");
        assertEquals(7, v.status());
        assertEquals("E810", v.json().at("/error/code").asText());
    }

    @Test
    void signingTwiceReplacesTheSignature() throws Exception {
        Path once = signed(keys.ec);
        Path twice = dir.resolve("twice.so");
        assertEquals(0, run("module", "sign", "--key", keys.rsa.toString(), "--config", config.toString(),
                once.toString(), "--out", twice.toString()).status());
        SignedModule m = SignedModule.open(twice);
        assertEquals(KeyType.RSA_3072, m.requireSigned().keyType());
        assertEquals(TestModule.bytes().length, m.requireSigned().moduleSize());
    }

    @Test
    void keysThatAreNotRsa3072OrP384AreRefused() throws Exception {
        for (Path key : new Path[] {keys.rsa2048, keys.p256}) {
            Result r = run("module", "sign", "--key", key.toString(), "--config", config.toString(),
                    TestModule.path().toString(), "--out", dir.resolve("x.so").toString());
            assertEquals(7, r.status(), r.toString());
            assertTrue(r.err().contains("E808"), r.toString());
        }
    }

    @Test
    void anRsaExponentTheEnclaveCannotVerifyIsRefusedAtSigning() throws Exception {
        java.security.KeyPairGenerator gen = java.security.KeyPairGenerator.getInstance("RSA");
        gen.initialize(new java.security.spec.RSAKeyGenParameterSpec(3072,
                java.math.BigInteger.ONE.shiftLeft(256).add(java.math.BigInteger.valueOf(297))));
        java.security.KeyPair pair = gen.generateKeyPair();
        Path key = Files.writeString(dir.resolve("big-exponent.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(pair.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        Result r = run("module", "sign", "--key", key.toString(), "--config", config.toString(),
                TestModule.path().toString(), "--out", dir.resolve("x.so").toString());
        assertEquals(7, r.status(), r.toString());
        assertTrue(r.err().contains("E808") && r.err().contains("2^256"), r.toString());
    }

    @Test
    void refusalsReachTheUserWithTheirCode() throws Exception {
        byte[] wx = TestModule.bytes();
        int load = TestModule.phdr(wx, TestModule.header(wx, TestModule.PT_LOAD, 1));
        TestModule.le(wx).putInt(load + 4, 7);
        Path bad = Files.write(dir.resolve("wx.so"), wx);
        Result r = run("module", "sign", "--key", keys.ec.toString(), "--config", config.toString(), bad.toString(),
                "--out", dir.resolve("wx.signed.so").toString(), "-o", "json");
        assertEquals(7, r.status(), r.toString());
        assertEquals("E802", r.json().at("/error/code").asText());
        assertFalse(Files.exists(dir.resolve("wx.signed.so")));

        Path small = Files.writeString(dir.resolve("small.xml"),
                "<EnclaveConfiguration><HeapMaxSize>0x1000</HeapMaxSize></EnclaveConfiguration>");
        Result big = run("module", "sign", "--key", keys.ec.toString(), "--config", small.toString(),
                TestModule.path().toString(), "--out", dir.resolve("big.so").toString());
        assertEquals(7, big.status(), big.toString());
        assertTrue(big.err().contains("E806"), big.toString());

        Path broken = Files.writeString(dir.resolve("broken.xml"), "<EnclaveConfiguration><TCSNum>x</TCSNum></EnclaveConfiguration>");
        Result conf = run("module", "sign", "--key", keys.ec.toString(), "--config", broken.toString(),
                TestModule.path().toString(), "--out", dir.resolve("c.so").toString());
        assertEquals(3, conf.status(), conf.toString());
        assertTrue(conf.err().contains("E807") && conf.err().contains("<TCSNum> is \"x\""), conf.toString());
    }

    @Test
    void theOutputMustNotBeTheInput() throws Exception {
        Path unsigned = Files.copy(TestModule.path(), dir.resolve("enclave.so"));
        Result r = run("module", "sign", "--key", keys.ec.toString(), "--config", config.toString(),
                unsigned.toString(), "--out", unsigned.toString());
        assertEquals(2, r.status(), r.toString());
        assertArrayEquals(TestModule.bytes(), Files.readAllBytes(unsigned));
    }

    private Path signed(Path key) throws Exception {
        Path out = Files.createTempFile(dir, "signed", ".so");
        Result r = run("module", "sign", "--key", key.toString(), "--config", config.toString(),
                TestModule.path().toString(), "--out", out.toString());
        assertEquals(0, r.status(), r.toString());
        return out;
    }

    private static EnclaveException refusal(byte[] module) {
        return assertThrows(EnclaveException.class, () -> SignedModule.parse(module, "m.signed.so"));
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
}
