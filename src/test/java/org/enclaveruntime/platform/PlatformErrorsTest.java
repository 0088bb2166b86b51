package org.enclaveruntime.platform;

import org.enclaveruntime.cli.ErrorCatalog;
import org.enclaveruntime.errors.ErrorCode;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlatformErrorsTest {
    @Test
    void everyCodeIsListedUniqueInRangeAndInTheCatalog() throws IllegalAccessException {
        Set<String> ids = new HashSet<>();
        int constants = 0;
        for (Field f : PlatformErrors.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == ErrorCode.class) {
                ErrorCode code = (ErrorCode) f.get(null);
                constants++;
                assertTrue(PlatformErrors.ALL.contains(code), f.getName() + " missing from ALL");
                assertTrue(code.id().startsWith("E6"), code.id());
                assertTrue(ids.add(code.id()), "duplicate " + code.id());
                assertEquals(code, ErrorCatalog.find(code.id()).orElseThrow());
            }
        }
        assertEquals(constants, PlatformErrors.ALL.size());
    }
}
