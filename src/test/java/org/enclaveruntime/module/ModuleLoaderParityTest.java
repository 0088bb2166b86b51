package org.enclaveruntime.module;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.image.Sha384;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The enclave's loader (src/guest/module_elf.c, built for the host with sanitizers as
 * target/guest/check/module-check) against the Java reference on the same bytes: the same verdict, accepted or
 * refused with the same E-code, for a million ELF mutants (ModuleMutator, as ModuleElfFuzzTest makes them) and for
 * signed modules of both key types, broken one way at a time; and the C loader's relocated image and symbol
 * lookups against what ModuleElf's relocations and `nm -D` say. -Dmodule.parity.mutants=N sets the mutant count,
 * -Dmodule.parity.seed=S reruns one mutant.
 */
class ModuleLoaderParityTest {
    private static final int MUTANTS = Integer.getInteger("module.parity.mutants", 1_000_000);
    private static final long SEED0 = 0x10ad_0000_0000L;
    private static final long VERSION_ADDRESS = 0xaaaa_0000_1000L;
    private static final long PRINT_ADDRESS = 0xbbbb_0000_2000L;
    /** MODULE_E_MISSING_IMPORT of module_elf.h: an E-code only the loader gives. */
    private static final int MISSING_IMPORT = 814;

    @TempDir
    static Path keys;
    private static ModuleKeys.SigningKey rsa;
    private static ModuleKeys.SigningKey ec;
    private static ModuleKeys.SigningKey rsa2048;
    private static ModuleKeys.SigningKey p256;

    @BeforeAll
    static void makeKeys() throws Exception {
        ModuleTestKeys.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072", "-pkeyopt",
                "rsa_keygen_pubexp:3", "-out", keys.resolve("rsa.pem"));
        ModuleTestKeys.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out",
                keys.resolve("ec.pem"));
        ModuleTestKeys.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                keys.resolve("rsa2048.pem"));
        ModuleTestKeys.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                keys.resolve("p256.pem"));
        rsa = ModuleKeys.readSigningKey(keys.resolve("rsa.pem"));
        ec = ModuleKeys.readSigningKey(keys.resolve("ec.pem"));
        // Keys `module sign` refuses (E808): made into SigningKeys here to build structures only an attacker would.
        rsa2048 = rawKey(KeyType.RSA_3072, keys.resolve("rsa2048.pem"), "RSA");
        p256 = rawKey(KeyType.ECDSA_P384, keys.resolve("p256.pem"), "EC");
    }

    @Test
    void elfMutantsGetTheSameVerdictFromTheEnclaveParser() throws Exception {
        ModuleMutator mutator = new ModuleMutator(TestModule.bytes());
        Long only = Long.getLong("module.parity.seed");
        int count = only != null ? 1 : MUTANTS;
        long seed0 = only != null ? only : SEED0;
        int[] expected = new int[count];
        int[] actual = new int[count];
        long started = System.nanoTime();
        try (Checker checker = new Checker()) {
            checker.send(out -> {
                out.op('O').bytes(mutator.original());
                byte[] work = mutator.work();
                for (int i = 0; i < count; i++) {
                    int length = mutator.mutate(seed0 + i);
                    expected[i] = javaParse(work, length);
                    out.op('M').u32(length).u16(mutator.touchedCount());
                    for (int k = 0; k < mutator.touchedCount(); k++) {
                        out.u32(mutator.touched(k)).u8(work[mutator.touched(k)]);
                    }
                    mutator.restore();
                }
            });
            for (int i = 0; i < count; i++) {
                actual[i] = checker.answer().code();
            }
            checker.finish();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        assertTrue(mutator.restored(), "the mutator restores its buffer");
        Map<Integer, Integer> outcomes = new TreeMap<>();
        List<String> disagreements = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            outcomes.merge(expected[i], 1, Integer::sum);
            if (expected[i] != actual[i] && disagreements.size() < 10) {
                disagreements.add(explainMutant(mutator, seed0 + i));
            }
        }
        System.out.printf("module loader parity, %d ELF mutants in %.1f s: %s%n", count, seconds, outcomes);
        assertTrue(disagreements.isEmpty(), "the C parser and ModuleElf disagree (rerun one with "
                + "-Dmodule.parity.seed=S):\n" + String.join("\n", disagreements));
        if (count >= 100_000) {
            for (int code : new int[] {0, 801, 802, 803, 804, 805}) {
                assertTrue(outcomes.getOrDefault(code, 0) > 0, code + " never reached: " + outcomes);
            }
        }
    }

    /** Rules broken one at a time on purpose, including edges the mutator reaches only by luck. */
    @Test
    void handMadeModulesGetTheSameVerdictFromTheEnclaveParser() throws Exception {
        byte[] module = TestModule.bytes();
        int dynamic = TestModule.header(module, TestModule.PT_DYNAMIC, 0);
        int dynamicAt = TestModule.phdr(module, dynamic);
        Map<String, Case> cases = new LinkedHashMap<>();
        cases.put("the test module", new Case(module, 0));
        // p_vaddr = -1 once served Java as "no PT_DYNAMIC yet", so a second PT_DYNAMIC after it went unseen.
        byte[] twoDynamics = module.clone();
        int next = TestModule.phdr(module, dynamic + 1);
        System.arraycopy(module, dynamicAt, twoDynamics, next, 56);
        TestModule.le(twoDynamics).putLong(dynamicAt + 16, -1L);
        cases.put("two PT_DYNAMIC, the first at p_vaddr 2^64-1", new Case(twoDynamics, 803));
        byte[] farDynamic = module.clone();
        TestModule.le(farDynamic).putLong(dynamicAt + 16, -1L);
        cases.put("PT_DYNAMIC at p_vaddr 2^64-1", new Case(farDynamic, 803));
        byte[] twoSame = module.clone();
        System.arraycopy(module, dynamicAt, twoSame, next, 56);
        cases.put("two identical PT_DYNAMIC", new Case(twoSame, 803));
        int rela = TestModule.rela(module, 0);
        cases.put("R_X86_64_64 in .rela.dyn", new Case(put(module, rela + 8, 4, 1), 805));
        cases.put("RELATIVE with a symbol", new Case(put(module, rela + 12, 4, 1), 803));
        cases.put("RELATIVE into code", new Case(put(module, rela, 8, 0x1000), 804));
        cases.put("RELATIVE beyond every segment", new Case(put(module, rela, 8, 0x1_0000_0000L), 804));
        cases.put("DT_NEEDED", new Case(put(module, TestModule.dynamicEntry(module, 10), 8, 1), 803));
        cases.put("DT_TEXTREL", new Case(put(module, TestModule.dynamicEntry(module, 10), 8, 22), 804));
        cases.put("cut inside the program headers", new Case(java.util.Arrays.copyOf(module, 100), 801));
        List<String> names = new ArrayList<>(cases.keySet());
        List<Case> all = new ArrayList<>(cases.values());
        List<String> problems = new ArrayList<>();
        try (Checker checker = new Checker()) {
            checker.send(out -> {
                for (Case c : all) {
                    out.op('P').bytes(c.bytes());
                }
            });
            for (int i = 0; i < all.size(); i++) {
                Answer a = checker.answer();
                int java = javaParse(all.get(i).bytes(), all.get(i).bytes().length);
                if (java != all.get(i).intended() || a.code() != all.get(i).intended()) {
                    problems.add(names.get(i) + ": meant " + all.get(i).intended() + ", Java " + java + ", C "
                            + a.code() + " (" + a.reason() + ")");
                }
            }
            checker.finish();
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void signedModulesGetTheSameVerdictFromTheEnclaveVerifier() throws Exception {
        byte[] module = TestModule.bytes();
        Map<String, Case> cases = new LinkedHashMap<>();
        cases.put("unsigned", new Case(module, 810));
        for (ModuleKeys.SigningKey key : List.of(rsa, ec)) {
            String k = key.type().label() + ": ";
            byte[] signed = new ModuleSigner(key, EnclaveConfig.DEFAULTS).sign(module, "m");
            int structure = module.length;
            int keyLength = TestModule.le(signed).getInt(structure + 28);
            int signature = structure + 192 + keyLength;
            cases.put(k + "valid", new Case(signed, 0));
            cases.put(k + "flipped code byte", new Case(flip(signed, TestModule.find(module,
                    new byte[] {0x34, 0x12, (byte) 0xed, 0x5e})), 811));
            cases.put(k + "flipped byte of MRENCLAVE", new Case(flip(signed, structure + 64 + 7), 811));
            cases.put(k + "flipped signature byte", new Case(flip(signed, signature + 5), 812));
            cases.put(k + "flipped last signature byte", new Case(flip(signed, signature + key.type().signatureSize()
                    - 1), 812));
            cases.put(k + "flipped byte of MRSIGNER", new Case(flip(signed, structure + 112), 812));
            cases.put(k + "flipped public key byte", new Case(flip(signed, structure + 192 + keyLength - 1), 812));
            cases.put(k + "flipped signed ProdID", new Case(flip(signed, structure + 40), 812));
            cases.put(k + "flipped byte outside everything measured (section headers)", new Case(flip(signed,
                    (int) TestModule.le(module).getLong(40) + 3), 0));
            cases.put(k + "version 2", new Case(put(signed, structure + 8, 2, 2), 809));
            cases.put(k + "reserved byte", new Case(flip(signed, structure + 191), 809));
            cases.put(k + "trailer size + 1", new Case(put(signed, signed.length - 16, 8,
                    signed.length - structure + 1), 809));
            cases.put(k + "key_type 3", new Case(put(signed, structure + 24, 4, 3), 809));
            cases.put(k + "other key_type", new Case(put(signed, structure + 24, 4, 3 - key.type().code()), 809));
            cases.put(k + "attributes 2", new Case(put(signed, structure + 36, 4, 2), 809));
            cases.put(k + "TCSNum 0", new Case(put(signed, structure + 44, 4, 0), 809));
            cases.put(k + "HeapMaxSize not in pages", new Case(put(signed, structure + 56, 8, 0x100001), 809));
            cases.put(k + "StackMaxSize too small", new Case(put(signed, structure + 48, 8, 0x1000), 809));
            cases.put(k + "module_size - 1", new Case(put(signed, structure + 16, 8, structure - 1), 809));
            cases.put(k + "last byte cut", new Case(java.util.Arrays.copyOf(signed, signed.length - 1), 810));
            cases.put(k + "ELF header broken under a valid structure", new Case(put(signed, 16, 2, 2), 801));
            EnclaveConfig small = new EnclaveConfig(0, 0, 0x40000, 0x1000, 1, true);
            cases.put(k + "image bigger than HeapMaxSize", new Case(signUnchecked(module, key, small), 806));
        }
        cases.put("RSA-2048 key as key_type 1", new Case(signUnchecked(module, rsa2048, EnclaveConfig.DEFAULTS), 809));
        cases.put("P-256 key as key_type 2", new Case(signUnchecked(module, p256, EnclaveConfig.DEFAULTS), 809));
        java.security.interfaces.RSAPublicKey rsaPublic = (java.security.interfaces.RSAPublicKey) rsa.publicKey();
        java.security.PublicKey bigExponent = java.security.KeyFactory.getInstance("RSA").generatePublic(
                new java.security.spec.RSAPublicKeySpec(rsaPublic.getModulus(),
                        java.math.BigInteger.ONE.shiftLeft(256).add(java.math.BigInteger.ONE)));
        cases.put("RSA-3072 key with public exponent 2^256 + 1", new Case(signUnchecked(module,
                new ModuleKeys.SigningKey(KeyType.RSA_3072, rsa.privateKey(), bigExponent), EnclaveConfig.DEFAULTS),
                809));

        List<Case> all = new ArrayList<>(cases.values());
        List<String> names = new ArrayList<>(cases.keySet());
        // Mutants of signed modules: the ELF part (measured or not) and the structure, as ModuleElfFuzzTest does.
        for (ModuleKeys.SigningKey key : List.of(rsa, ec)) {
            byte[] signed = new ModuleSigner(key, EnclaveConfig.DEFAULTS).sign(module, "m");
            ModuleMutator mutator = new ModuleMutator(module);
            for (int i = 0; i < 600; i++) {
                mutator.mutate(0x5167_0000L + i);
                byte[] mutant = signed.clone();
                System.arraycopy(mutator.work(), 0, mutant, 0, module.length);
                mutator.restore();
                all.add(new Case(mutant, -1));
                names.add(key.type().label() + ": ELF mutant of seed 0x" + Long.toHexString(0x5167_0000L + i));
            }
            for (int i = 0; i < 600; i++) {
                SplittableRandom r = new SplittableRandom(0x51_0000L + i);
                byte[] mutant = signed.clone();
                int length = mutant.length;
                for (int m = 1 + r.nextInt(3); m > 0; m--) {
                    if (r.nextInt(10) == 0) {
                        length = module.length + r.nextInt(mutant.length - module.length + 1);
                    } else {
                        int at = r.nextInt(4) == 0 ? mutant.length - 16 + r.nextInt(16) : module.length + r.nextInt(192);
                        mutant[at] = (byte) (r.nextBoolean() ? r.nextInt(256) : mutant[at] ^ (1 << r.nextInt(8)));
                    }
                }
                all.add(new Case(java.util.Arrays.copyOf(mutant, length), -1));
                names.add(key.type().label() + ": structure mutant " + i);
            }
        }

        int[] actual = new int[all.size()];
        String[] reasons = new String[all.size()];
        long started = System.nanoTime();
        try (Checker checker = new Checker()) {
            checker.send(out -> {
                for (Case c : all) {
                    out.op('V').bytes(c.bytes());
                }
            });
            for (int i = 0; i < all.size(); i++) {
                Answer a = checker.answer();
                actual[i] = a.code();
                reasons[i] = a.reason();
            }
            checker.finish();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        Map<Integer, Integer> outcomes = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            Case c = all.get(i);
            String java = javaVerify(c.bytes());
            int javaCode = code(java);
            outcomes.merge(javaCode, 1, Integer::sum);
            if (c.intended() >= 0 && javaCode != c.intended()) {
                problems.add(names.get(i) + ": ModuleElf/SignedModule give " + javaCode + ", the case means "
                        + c.intended() + " (" + java + ")");
            }
            if (javaCode != actual[i]) {
                problems.add(names.get(i) + ": Java " + javaCode + " (" + java + "), C " + actual[i] + " ("
                        + reasons[i] + ")");
            }
        }
        System.out.printf("module loader parity, %d signed modules in %.1f s: %s%n", all.size(), seconds, outcomes);
        assertTrue(problems.isEmpty(), String.join("\n", problems.subList(0, Math.min(20, problems.size()))));
        for (int code : new int[] {0, 801, 806, 809, 810, 811, 812}) {
            assertTrue(outcomes.getOrDefault(code, 0) > 0, code + " never reached: " + outcomes);
        }
    }

    @Test
    void relocatedImagesHoldWhatModuleElfSays() throws Exception {
        byte[] module = TestModule.bytes();
        Map<String, Long> defined = definedSymbols(TestModule.path()).entrySet().stream().collect(
                java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue()[0]));
        // Everything the test module imports (docs/module-runtime.md, "The test module's ECALLs").
        Map<String, Long> imports = Map.of("enclave_api_version", VERSION_ADDRESS, "enclave_api_print", PRINT_ADDRESS,
                "enclave_ocall", 0xcccc_0000_3000L, "memcpy", 0xdddd_0000_4000L, "strlen", 0xeeee_0000_5000L);
        Map<String, Long> withoutPrint = new java.util.HashMap<>(imports);
        withoutPrint.remove("enclave_api_print");
        ModuleElf elf = ModuleElf.parse(module, "m");
        Map<Integer, Integer> types = new TreeMap<>();
        for (ModuleElf.Relocation r : elf.relocations()) {
            types.merge(r.type(), 1, Integer::sum);
        }
        assertEquals(java.util.Set.of(ModuleElf.R_X86_64_GLOB_DAT, ModuleElf.R_X86_64_JUMP_SLOT,
                ModuleElf.R_X86_64_RELATIVE), types.keySet(), "the test module has each relocation type");

        // The GLOB_DAT's symbol made defined (at ecall_answer), so the loader must write base + st_value instead.
        byte[] definedImport = module.clone();
        ModuleElf.Relocation globDat = elf.relocations().stream()
                .filter(r -> r.type() == ModuleElf.R_X86_64_GLOB_DAT).findFirst().orElseThrow();
        long symtab = TestModule.le(module).getLong(TestModule.dynamicEntry(module, 6) + 8);
        int sym = TestModule.fileOffset(module, symtab) + 24 * symbolIndex(module, globDat);
        TestModule.le(definedImport).putShort(sym + 6, (short) 7).putLong(sym + 8, defined.get("ecall_answer"));
        ModuleElf definedElf = ModuleElf.parse(definedImport, "m");
        Map<String, Long> definedValues = new java.util.HashMap<>(defined);
        definedValues.put(globDat.symbol(), defined.get("ecall_answer"));

        try (Checker checker = new Checker()) {
            long[] bases = {0x1000_0000L, 0x7f12_3456_7000L};
            checker.send(out -> {
                for (long base : bases) {
                    relocate(out, module, base, imports);
                    relocate(out, definedImport, base, imports);
                }
                relocate(out, module, 0x20_0000L, withoutPrint);
            });
            for (long base : bases) {
                checkImage(checker.answer(), checker, module, elf, base, imports, defined);
                checkImage(checker.answer(), checker, definedImport, definedElf, base, imports, definedValues);
            }
            Answer missing = checker.answer();
            assertEquals(MISSING_IMPORT, missing.code(), missing.reason());
            assertTrue(missing.reason().contains("enclave_api_print"), "names the missing import: " + missing.reason());
            checker.finish();
        }
    }

    @Test
    void symbolLookupFindsWhatNmFinds() throws Exception {
        Path gnu = TestModule.path();
        Path sysv = gnu.resolveSibling("test-module-sysv.so");
        assertTrue(Files.isRegularFile(sysv), sysv + " is not built");
        for (Path module : List.of(gnu, sysv)) {
            byte[] bytes = Files.readAllBytes(module);
            Map<String, long[]> defined = definedSymbols(module);
            assertTrue(defined.containsKey("ecall_answer") && defined.containsKey("ecall_greet"), defined.keySet()
                    .toString());
            List<String> absent = List.of("enclave_api_print", "enclave_api_version", "ecall_answe", "ecall_answerr",
                    "", "main");
            List<String> names = new ArrayList<>(defined.keySet());
            names.addAll(absent);
            try (Checker checker = new Checker()) {
                checker.send(out -> {
                    for (String name : names) {
                        out.op('S').bytes(bytes).name(name);
                    }
                });
                for (String name : names) {
                    Answer a = checker.answer();
                    assertEquals(0, a.code(), a.reason());
                    int found = checker.in.u32();
                    long vaddr = checker.in.u64();
                    long size = checker.in.u64();
                    String at = module.getFileName() + ": " + name;
                    if (defined.containsKey(name)) {
                        assertEquals(0, found, at + " not found");
                        assertEquals(defined.get(name)[0], vaddr, at + " address");
                        assertEquals(defined.get(name)[1], size, at + " size");
                    } else {
                        assertEquals(1, found, at + " found, but nm -D says it is not defined");
                    }
                }
                checker.finish();
            }
        }
    }

    // ---- Java's verdicts ----

    private static int javaParse(byte[] bytes, int length) {
        try {
            ModuleElf.parse(bytes, length, "m");
            return 0;
        } catch (EnclaveException e) {
            return Integer.parseInt(e.code().id().substring(1));
        }
    }

    /** "0" or "E8xx: message" for what SignedModule says of a file the loader receives (unsigned is E810). */
    private static String javaVerify(byte[] bytes) {
        try {
            SignedModule.parse(bytes, "m").requireSigned();
            return "0";
        } catch (EnclaveException e) {
            return e.code().id() + ": " + e.getMessage();
        }
    }

    private static int code(String verdict) {
        return verdict.equals("0") ? 0 : Integer.parseInt(verdict.substring(1, 4));
    }

    private String explainMutant(ModuleMutator mutator, long seed) throws IOException, InterruptedException {
        int length = mutator.mutate(seed);
        byte[] mutant = java.util.Arrays.copyOf(mutator.work(), length);
        mutator.restore();
        String java;
        try {
            ModuleElf.parse(mutant, "m");
            java = "accepted";
        } catch (EnclaveException e) {
            java = e.code().id() + " " + e.getMessage();
        }
        try (Checker checker = new Checker()) {
            checker.send(out -> out.op('P').bytes(mutant));
            Answer a = checker.answer();
            checker.finish();
            return "seed " + seed + ": Java " + java + "; C " + (a.code() == 0 ? "accepted" : "E" + a.code() + " "
                    + a.reason());
        }
    }

    // ---- Signed modules ----

    private record Case(byte[] bytes, int intended) {
    }

    private static byte[] flip(byte[] b, int at) {
        byte[] c = b.clone();
        c[at] ^= 0x01;
        return c;
    }

    private static byte[] put(byte[] b, int at, int size, long value) {
        byte[] c = b.clone();
        for (int i = 0; i < size; i++) {
            c[at + i] = (byte) (value >>> (8 * i));
        }
        return c;
    }

    /** A signed module as `module sign` would make it, without its checks (fits the heap, a usable key). */
    private static byte[] signUnchecked(byte[] module, ModuleKeys.SigningKey key, EnclaveConfig config)
            throws GeneralSecurityException {
        ModuleElf elf = ModuleElf.parse(module, "m");
        byte[] publicKey = key.publicKey().getEncoded();
        byte[] message = ModuleSignature.signedBytes(module.length, key.type(), config, elf.measurement(),
                Sha384.digest(publicKey), publicKey);
        Signature signer = Signature.getInstance(key.type().algorithm());
        signer.initSign(key.privateKey());
        signer.update(message);
        byte[] signature = signer.sign();
        if (signature.length < key.type().signatureSize()) {
            // RSA-2048 gives 256 bytes; the structure holds key_type 1's 384, left-padded as a big-endian integer.
            byte[] padded = new byte[key.type().signatureSize()];
            System.arraycopy(signature, 0, padded, padded.length - signature.length, signature.length);
            signature = padded;
        }
        byte[] structure = new ModuleSignature(module.length, key.type(), config, elf.measurement(),
                Sha384.digest(publicKey), publicKey, signature).encode();
        byte[] out = java.util.Arrays.copyOf(module, module.length + structure.length);
        System.arraycopy(structure, 0, out, module.length, structure.length);
        return out;
    }

    private static ModuleKeys.SigningKey rawKey(KeyType type, Path pem, String algorithm) throws Exception {
        ModuleTestKeys.openssl("pkcs8", "-topk8", "-nocrypt", "-in", pem, "-outform", "DER", "-out",
                pem.resolveSibling(pem.getFileName() + ".p8"));
        ModuleTestKeys.openssl("pkey", "-in", pem, "-pubout", "-outform", "DER", "-out",
                pem.resolveSibling(pem.getFileName() + ".pub.der"));
        java.security.KeyFactory f = java.security.KeyFactory.getInstance(algorithm);
        return new ModuleKeys.SigningKey(type,
                f.generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(
                        Files.readAllBytes(pem.resolveSibling(pem.getFileName() + ".p8")))),
                f.generatePublic(new java.security.spec.X509EncodedKeySpec(
                        Files.readAllBytes(pem.resolveSibling(pem.getFileName() + ".pub.der")))));
    }

    // ---- Relocation and symbols ----

    private static void relocate(Out out, byte[] module, long base, Map<String, Long> imports) throws IOException {
        out.op('R').bytes(module).u64(base).u32(imports.size());
        for (Map.Entry<String, Long> e : imports.entrySet()) {
            out.name(e.getKey()).u64(e.getValue());
        }
    }

    private static void checkImage(Answer answer, Checker checker, byte[] module, ModuleElf elf, long base,
                                   Map<String, Long> imports, Map<String, Long> defined) throws IOException {
        String at = "base 0x" + Long.toHexString(base) + ": ";
        assertEquals(0, answer.code(), at + answer.reason());
        long size = checker.in.u64();
        assertEquals(elf.imageSize(), size, at + "image size");
        byte[] image = checker.in.bytes((int) size);
        byte[] expected = new byte[(int) elf.imageSize()];
        for (ModuleElf.Segment s : elf.segments()) {
            System.arraycopy(module, (int) s.offset(), expected, (int) s.vaddr(), (int) s.fileSize());
        }
        ByteBuffer want = ByteBuffer.wrap(expected).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer have = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        for (ModuleElf.Relocation r : elf.relocations()) {
            long value = r.type() == ModuleElf.R_X86_64_RELATIVE ? base + r.addend()
                    : r.imported() ? imports.get(r.symbol()) : base + defined.get(r.symbol());
            want.putLong((int) r.offset(), value);
            assertEquals(value, have.getLong((int) r.offset()), at + r.table() + " entry " + r.index() + " ("
                    + r.typeName() + (r.symbol() == null ? "" : " " + r.symbol()) + ") at 0x"
                    + Long.toHexString(r.offset()));
        }
        assertArrayEquals(expected, image, at + "the image beyond the relocated slots");
    }

    private static int symbolIndex(byte[] module, ModuleElf.Relocation r) {
        int table = r.table().equals(".rela.dyn") ? 7 : 23;
        int at = TestModule.fileOffset(module, TestModule.le(module).getLong(TestModule.dynamicEntry(module, table)
                + 8)) + 24 * r.index();
        return (int) (TestModule.le(module).getLong(at + 8) >>> 32);
    }

    /** `nm -D -S --defined-only`: name to {address, size}. */
    private static Map<String, long[]> definedSymbols(Path module) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("nm", "-D", "-S", "--defined-only", module.toString())
                .redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "nm -D failed: " + text);
        Map<String, long[]> symbols = new TreeMap<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 4) {
                symbols.put(f[3], new long[] {Long.parseUnsignedLong(f[0], 16), Long.parseUnsignedLong(f[1], 16)});
            }
        }
        return symbols;
    }

    // ---- module-check, the C side ----

    private record Answer(int code, String reason) {
    }

    @FunctionalInterface
    private interface Requests {
        void write(Out out) throws IOException;
    }

    /** Little-endian request writer. */
    private static final class Out {
        private final OutputStream s;

        Out(OutputStream s) {
            this.s = s;
        }

        Out op(char op) throws IOException {
            s.write(op);
            return this;
        }

        Out u8(int v) throws IOException {
            s.write(v);
            return this;
        }

        Out u16(int v) throws IOException {
            s.write(v);
            s.write(v >>> 8);
            return this;
        }

        Out u32(long v) throws IOException {
            for (int i = 0; i < 4; i++) {
                s.write((int) (v >>> (8 * i)));
            }
            return this;
        }

        Out u64(long v) throws IOException {
            for (int i = 0; i < 8; i++) {
                s.write((int) (v >>> (8 * i)));
            }
            return this;
        }

        Out bytes(byte[] b) throws IOException {
            u32(b.length);
            s.write(b);
            return this;
        }

        Out name(String name) throws IOException {
            byte[] b = name.getBytes(StandardCharsets.ISO_8859_1);
            u16(b.length);
            s.write(b);
            return this;
        }
    }

    /** Little-endian answer reader. */
    private static final class In {
        private final DataInputStream s;

        In(InputStream s) {
            this.s = new DataInputStream(new BufferedInputStream(s, 1 << 16));
        }

        int u32() throws IOException {
            return Integer.reverseBytes(s.readInt());
        }

        long u64() throws IOException {
            return Long.reverseBytes(s.readLong());
        }

        byte[] bytes(int n) throws IOException {
            byte[] b = new byte[n];
            s.readFully(b);
            return b;
        }
    }

    /**
     * target/guest/check/module-check as a child process. Requests go out from a thread of their own, so that
     * neither side can block the other on a full pipe.
     */
    private static final class Checker implements AutoCloseable {
        private final Process process;
        final In in;
        private Thread writer;
        private volatile Throwable writeFailure;

        Checker() throws IOException {
            Path binary = Path.of(System.getProperty("enclave.build.dir", "target"), "guest", "check", "module-check");
            assertTrue(Files.isExecutable(binary), binary + " is not built (mvn generate-resources builds it)");
            process = new ProcessBuilder(binary.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            in = new In(process.getInputStream());
        }

        void send(Requests requests) {
            writer = new Thread(() -> {
                try (OutputStream o = new BufferedOutputStream(process.getOutputStream(), 1 << 16)) {
                    requests.write(new Out(o));
                } catch (Throwable t) {
                    writeFailure = t;
                }
            }, "module-check writer");
            writer.start();
        }

        Answer answer() throws IOException {
            try {
                int code = in.u32();
                int n = in.s.readUnsignedByte();
                return new Answer(code, new String(in.bytes(n), StandardCharsets.ISO_8859_1));
            } catch (EOFException e) {
                throw new AssertionError("module-check ended early (exit status " + exitStatus() + ", see stderr: a "
                        + "sanitizer report means the C loader read or wrote out of bounds)", e);
            }
        }

        /** All answers read: the writer must be done and the checker must end cleanly with nothing left to say. */
        void finish() throws IOException, InterruptedException {
            writer.join();
            if (writeFailure != null) {
                throw new AssertionError("writing requests failed", writeFailure);
            }
            assertEquals(-1, in.s.read(), "module-check answered more than was asked");
            assertEquals(0, exitStatus(), "module-check's exit status");
        }

        private int exitStatus() {
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    fail("module-check did not end");
                }
                return process.exitValue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
            if (writer != null) {
                writer.join(10_000);
            }
        }
    }
}
