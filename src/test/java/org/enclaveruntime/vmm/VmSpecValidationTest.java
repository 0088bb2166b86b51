package org.enclaveruntime.vmm;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The boot refuses settings it cannot honour before it opens KVM, so this runs on every host. (The runtime
 * ELF's rules are the image's: image/RuntimeElfTest and image/RuntimeElfDifferentialTest.)
 */
class VmSpecValidationTest {
    @Test
    void bootRefusesInvalidSettingsBeforeOpeningKvm() {
        MemoryBacking backing = MemoryBacking.ORDINARY;
        byte[] elf = TestGuests.elf(TestGuests.EXIT_7);
        for (VmSpec bad : new VmSpec[] {
                new VmSpec(0, 16L << 20, elf, false, null, 3, List.of(), backing),
                new VmSpec(1, (16L << 20) + 4096, elf, false, null, 3, List.of(), backing),
                new VmSpec(1, 16L << 20, elf, false, null, 2, List.of(), backing),
                new VmSpec(2, 16L << 20, elf, false, null, 3, List.of(0), backing),
                new VmSpec(1, 16L << 20, elf, false, null, 3, List.of(-1), backing),
                new VmSpec(1, 1L << 40, elf, false, null, 3, List.of(), backing)}) {
            EnclaveException x = assertThrows(EnclaveException.class, () -> VmBuilder.boot(bad), bad.toString());
            assertEquals(VmmErrors.INVALID_VM_SPEC, x.code(), x.getMessage());
        }
    }
}
