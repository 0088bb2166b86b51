package org.enclaveruntime.platform;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuListTest {
    @Test
    void parsesRangesAndSingles() {
        assertEquals(List.of(0, 1, 2, 3, 6, 8, 9), CpuList.parse("0-3,6,8-9").cpus());
        assertEquals(List.of(0, 8), CpuList.parse("0,8\n").cpus());
        assertEquals(List.of(), CpuList.parse("").cpus());
        assertEquals(List.of(1, 2), CpuList.parse(" 2 , 1 ,2").cpus());
    }

    @Test
    void formatsLikeTheKernel() {
        assertEquals("0-3,6,8-9", CpuList.of(9, 8, 6, 3, 2, 1, 0).format());
        assertEquals("0-1", CpuList.of(0, 1).format());
        assertEquals("0,2,4", CpuList.of(4, 2, 0).format());
        assertEquals("", CpuList.empty().format());
        for (String text : List.of("0", "0-15", "1,3,5-7,100-103")) {
            assertEquals(text, CpuList.parse(text).format());
        }
    }

    @Test
    void rejectsMalformedListsNamingThePart() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuList.parse("0-3,x"));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CpuList.parse("5-2"));
        assertTrue(e.getMessage().contains("5-2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CpuList.parse("1,,2"));
        assertThrows(IllegalArgumentException.class, () -> CpuList.parse("-1"));
        assertThrows(IllegalArgumentException.class, () -> CpuList.parse("9000"));
    }

    @Test
    void setOperations() {
        CpuList a = CpuList.parse("0-7");
        CpuList b = CpuList.parse("4-11");
        assertEquals("0-11", a.union(b).format());
        assertEquals("0-3", a.minus(b).format());
        assertEquals("4-7", a.intersect(b).format());
        assertTrue(a.containsAll(CpuList.parse("1,3")));
    }
}
