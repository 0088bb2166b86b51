package org.enclaveruntime.cli;

import org.enclaveruntime.errors.ErrorCode;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ErrorCatalogTest {
    @Test
    void idsAreUnique() {
        List<ErrorCode> all = ErrorCatalog.all();
        Set<String> ids = new HashSet<>();
        for (ErrorCode c : all) {
            assertTrue(ids.add(c.id()), "duplicate error id " + c.id());
        }
    }

    /** A code declared in a holder class but left out of its ALL list would be unknown to `explain`. */
    @Test
    void everyDeclaredCodeIsInTheCatalogAndNothingElse() throws Exception {
        Set<ErrorCode> declared = new HashSet<>();
        for (Class<?> holder : HOLDERS) {
            for (Field f : holder.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) && f.getType() == ErrorCode.class) {
                    declared.add((ErrorCode) f.get(null));
                }
            }
        }
        assertEquals(declared, Set.copyOf(ErrorCatalog.all()));
    }

    @Test
    void explainFindsEveryCodeCaseInsensitively() {
        for (ErrorCode c : ErrorCatalog.all()) {
            assertEquals(c, ErrorCatalog.find(c.id().toLowerCase()).orElseThrow());
        }
    }

    /** docs/exit-codes.md lists every code with its exit status and title, and nothing else. */
    @Test
    void exitCodeDocumentListsTheCatalog() throws Exception {
        java.nio.file.Path doc = java.nio.file.Path.of(System.getProperty("enclave.project.dir", "."), "docs", "exit-codes.md");
        Set<String> documented = new HashSet<>();
        for (String line : java.nio.file.Files.readAllLines(doc)) {
            if (line.matches("\\| E\\d{3} \\|.*")) {
                documented.add(line.trim());
            }
        }
        Set<String> expected = new HashSet<>();
        for (ErrorCode c : ErrorCatalog.all()) {
            expected.add("| " + c.id() + " | " + c.exitStatus().code() + " | " + c.title() + " |");
        }
        assertEquals(expected, documented);
    }

    /** Every class holding ErrorCode constants; a new concept's holder is added here and to ErrorCatalog. */
    private static final List<Class<?>> HOLDERS = List.of(
            org.enclaveruntime.errors.GeneralErrors.class,
            org.enclaveruntime.state.StateErrors.class,
            org.enclaveruntime.config.ConfigErrors.class,
            org.enclaveruntime.platform.PlatformErrors.class,
            org.enclaveruntime.kvm.KvmErrors.class,
            org.enclaveruntime.memory.MemoryErrors.class,
            org.enclaveruntime.vmm.VmmErrors.class,
            org.enclaveruntime.service.LifecycleErrors.class,
            org.enclaveruntime.image.ImageErrors.class,
            org.enclaveruntime.vsock.VsockErrors.class,
            org.enclaveruntime.module.ModuleErrors.class,
            org.enclaveruntime.sdk.SdkErrors.class,
            org.enclaveruntime.sdk.edl.EdlErrors.class);
}
