package org.enclaveruntime.sdk;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.module.ModuleElf;
import org.enclaveruntime.module.ModuleErrors;
import org.enclaveruntime.module.SignedModule;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bad modules EnclaveModuleTest sends to the enclave are bad in exactly one way: checked here, on the host,
 * with the project's own module checker, so that a refusal on KVM means the loader caught that one fault.
 */
class SignedTestModuleTest {
    private final SignedTestModule signer = new SignedTestModule();
    private final byte[] unsigned = SignedTestModule.bytes(SignedTestModule.built("test-module.so"));

    @Test
    void theUncheckedSignerMeasuresAsTheFormatSays() {
        assertEquals(ModuleElf.parse(unsigned, "m").measurement(), SignedTestModule.measure(unsigned));
        SignedModule.parse(signer.signUnchecked(unsigned, SignedTestModule.PRODUCTION), "m").requireSigned();
    }

    @Test
    void anUnsupportedRelocationIsTheOnlyFault() {
        byte[] bad = signer.signUnchecked(SignedTestModule.withUnsupportedRelocation(unsigned), SignedTestModule.PRODUCTION);
        EnclaveException e = assertThrows(EnclaveException.class, () -> SignedModule.parse(bad, "m"));
        assertEquals(ModuleErrors.UNSUPPORTED_RELOCATION, e.code(), e.toString());
    }

    @Test
    void aMissingImportPassesEveryHostCheck() {
        byte[] edited = SignedTestModule.withMissingImport(unsigned);
        SignedModule m = SignedModule.parse(signer.sign(edited, SignedTestModule.PRODUCTION), "m");
        assertTrue(m.elf().imports().stream().anyMatch(i -> i.endsWith("X")), m.elf().imports().toString());
        assertNotEquals(ModuleElf.parse(unsigned, "m").imports(), m.elf().imports());
    }

    @Test
    void aFlippedCodeByteBreaksTheMeasurement() {
        byte[] signed = signer.sign(unsigned, SignedTestModule.PRODUCTION);
        signed[SignedTestModule.firstCodeByte(unsigned)] ^= 0x01;
        EnclaveException e = assertThrows(EnclaveException.class, () -> SignedModule.parse(signed, "m"));
        assertEquals(ModuleErrors.MEASUREMENT_MISMATCH, e.code(), e.toString());
    }
}
