package org.enclaveruntime.module;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A million mutated modules through the ELF and relocation parser, the code the enclave's loader will mirror.
 * Every outcome must be a parsed module or an EnclaveException with a ModuleErrors code; and a parsed module
 * must keep the promises the loader relies on (W^X, page-disjoint segments inside the file, only the three
 * relocation types, each writing inside a writable segment). Mutations aim at the bytes the parser reads (ELF
 * header, program headers, dynamic section, relocation and symbol tables) and sometimes anywhere or at the
 * length. Each iteration has its own seed, printed on failure: rerun with -Dmodule.fuzz.seed=S.
 */
class ModuleElfFuzzTest {
    private static final int ITERATIONS = Integer.getInteger("module.fuzz.iterations", 1_000_000);

    @Test
    void everyMutatedModuleParsesOrIsRefusedWithAModuleCode() {
        ModuleMutator mutator = new ModuleMutator(TestModule.bytes());
        byte[] work = mutator.work();
        Set<ErrorCode> codes = new HashSet<>(ModuleErrors.ALL);
        Map<String, Integer> outcomes = new TreeMap<>();
        long seed0 = Long.getLong("module.fuzz.seed", 0x5eed_0001L);
        int iterations = Long.getLong("module.fuzz.seed") != null ? 1 : ITERATIONS;
        for (int i = 0; i < iterations; i++) {
            long seed = seed0 + i;
            int length = mutator.mutate(seed);
            String outcome;
            try {
                ModuleElf elf = ModuleElf.parse(work, length, "fuzz");
                checkPromises(elf, length, seed);
                if ((i & 15) == 0) {
                    elf.measurement();
                    elf.imports();
                }
                outcome = "parsed";
            } catch (EnclaveException e) {
                if (!codes.contains(e.code())) {
                    fail("seed " + seed + ": refused with " + e.code().id() + ", not a module code: " + e.getMessage());
                }
                outcome = e.code().id();
            } catch (RuntimeException | Error e) {
                throw new AssertionError("seed " + seed + ": " + e, e);
            }
            outcomes.merge(outcome, 1, Integer::sum);
            mutator.restore();
        }
        assertTrue(mutator.restored(), "the fuzzer restores its buffer");
        System.out.println("module ELF fuzz, " + iterations + " cases: " + outcomes);
        if (iterations == ITERATIONS && ITERATIONS >= 100_000) {
            // A fuzzer that only ever hits one check tests nothing: each family of refusals must show up.
            for (String code : new String[] {"E801", "E802", "E803", "E804", "E805"}) {
                assertTrue(outcomes.getOrDefault(code, 0) > 0, code + " never reached: " + outcomes);
            }
            assertTrue(outcomes.getOrDefault("parsed", 0) > iterations / 20, "too few mutants parse: " + outcomes);
        }
    }

    /** The signature structure's decoder on mutated structures: a ModuleErrors code or a decoded structure. */
    @Test
    void mutatedSignatureStructuresDecodeOrAreRefused() throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp384r1"));
        java.security.KeyPair pair = g.generateKeyPair();
        byte[] signed = new ModuleSigner(new ModuleKeys.SigningKey(KeyType.ECDSA_P384, pair.getPrivate(),
                pair.getPublic()), EnclaveConfig.DEFAULTS).sign(TestModule.bytes(), "m");
        int structure = signed.length - (int) TestModule.le(signed).getLong(signed.length - 16);
        Map<String, Integer> outcomes = new TreeMap<>();
        byte[] work = signed.clone();
        for (int i = 0; i < 200_000; i++) {
            SplittableRandom r = new SplittableRandom(0x51_0000L + i);
            System.arraycopy(signed, structure, work, structure, signed.length - structure);
            int length = work.length;
            for (int m = 1 + r.nextInt(3); m > 0; m--) {
                if (r.nextInt(10) == 0) {
                    length = structure + r.nextInt(work.length - structure + 1);
                } else {
                    int at = r.nextInt(4) == 0 ? work.length - 16 + r.nextInt(16) : structure + r.nextInt(192);
                    work[at] = (byte) (r.nextBoolean() ? r.nextInt(256) : work[at] ^ (1 << r.nextInt(8)));
                }
            }
            try {
                outcomes.merge(ModuleSignature.decode(work, length, "m").isPresent() ? "decoded" : "unsigned", 1,
                        Integer::sum);
            } catch (EnclaveException e) {
                assertEquals(ModuleErrors.BAD_SIGNATURE_BLOCK, e.code(), "case " + i + ": " + e.getMessage());
                outcomes.merge(e.code().id(), 1, Integer::sum);
            } catch (RuntimeException e) {
                throw new AssertionError("case " + i + ": " + e, e);
            }
        }
        System.out.println("module signature structure fuzz: " + outcomes);
        assertTrue(outcomes.getOrDefault("decoded", 0) > 0 && outcomes.getOrDefault("E809", 0) > 0, outcomes.toString());
    }

    private static void checkPromises(ModuleElf elf, int length, long seed) {
        ModuleElf.Segment prev = null;
        for (ModuleElf.Segment s : elf.segments()) {
            String at = "seed " + seed + ": segment " + s.index();
            assertTrue(!(s.writable() && s.executable()), at + " is W and X");
            assertTrue(s.offset() >= 0 && s.fileSize() >= 0 && s.offset() + s.fileSize() <= length, at + " outside the file");
            assertTrue(s.fileSize() <= s.memSize() && s.end() <= ModuleElf.ADDRESS_LIMIT && s.vaddr() >= 0, at);
            assertEquals(s.vaddr() % 4096, s.offset() % 4096, at + " misaligned");
            if (prev != null) {
                assertTrue((prev.end() + 4095) / 4096 <= s.vaddr() / 4096, at + " shares a page with " + prev.index());
            }
            prev = s;
        }
        for (ModuleElf.Relocation rel : elf.relocations()) {
            assertTrue(rel.type() == ModuleElf.R_X86_64_RELATIVE || rel.type() == ModuleElf.R_X86_64_GLOB_DAT
                    || rel.type() == ModuleElf.R_X86_64_JUMP_SLOT, "seed " + seed + ": type " + rel.type());
            assertTrue(elf.segments().stream().anyMatch(s -> s.writable() && rel.offset() >= s.vaddr()
                    && rel.offset() + 8 <= s.end()), "seed " + seed + ": relocation outside writable data");
            assertTrue(rel.type() == ModuleElf.R_X86_64_RELATIVE || rel.symbol() != null && !rel.symbol().isEmpty()
                    && rel.addend() == 0, "seed " + seed + ": symbol relocation without a name or with an addend");
        }
    }
}
