package org.enclaveruntime.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ValueTypesTest {
    private static final SizeType MEMORY = (SizeType) ConfigKeys.MEMORY.type();
    private static final CpuListType CPUS = (CpuListType) ConfigKeys.CPU_IDS.type();

    @ParameterizedTest
    @CsvSource({"64M, 67108864", "64m, 67108864", "65536K, 67108864", "1G, 1073741824", "2GiB, 2147483648",
            "1536M, 1610612736", "'1024 M', 1073741824"})
    void sizes(String text, long bytes) throws InvalidValueException {
        assertEquals(bytes, MEMORY.parse(text));
    }

    @ParameterizedTest
    @CsvSource({"1073741824, 1G", "1610612736, 1536M", "67108864, 64M", "1536, 1536 bytes", "3072, 3K"})
    void sizesPrintInTheLargestExactUnit(long bytes, String text) {
        assertEquals(text, new SizeType(0, Long.MAX_VALUE, 1).format(bytes));
    }

    @Test
    void hugeSizesOverflowIntoOutOfRange() {
        InvalidValueException e = assertThrows(InvalidValueException.class, () -> MEMORY.parse("9999999999999G"));
        assertEquals(ConfigErrors.OUT_OF_RANGE, e.code());
    }

    @ParameterizedTest
    @CsvSource({"'2-3,6', '2,3,6', '2-3,6'", "'7,0-1', '0,1,7', '0-1,7'", "'0', '0', '0'", "' 1 - 2 ,4', '1,2,4', '1-2,4'",
            "'4095', '4095', '4095'"})
    void cpuLists(String text, String ids, String canonical) throws InvalidValueException {
        List<Integer> parsed = CPUS.parse(text);
        assertEquals(ids, String.join(",", parsed.stream().map(String::valueOf).toList()));
        assertEquals(canonical, CPUS.format(parsed));
    }

    @ParameterizedTest
    @CsvSource({"100ms, 100", "10s, 10000", "2m, 120000", "10M, 600000", "3min, 180000"})
    void durations(String text, long millis) throws InvalidValueException {
        assertEquals(Duration.ofMillis(millis), ConfigKeys.BOOT_TIMEOUT.type().parse(text));
    }

    @ParameterizedTest
    @CsvSource({"true, true", "YES, true", "on, true", "1, true", "False, false", "no, false", "OFF, false", "0, false"})
    void booleans(String text, boolean value) throws InvalidValueException {
        assertEquals(value, ConfigKeys.DEBUG.type().parse(text));
    }

    @ParameterizedTest
    @CsvSource({"cpu_cont, cpu_count", "memroy, memory", "imgae, image", "cpuids, cpu_ids"})
    void typosFindTheirKey(String typo, String key) {
        assertEquals(key, DidYouMean.nearest(typo, ConfigKeys.ALL.stream().map(ConfigKey::name).toList())
                .orElseThrow());
    }

    @Test
    void unrelatedNamesGetNoSuggestion() {
        assertEquals(java.util.Optional.empty(), DidYouMean.nearest("xyzzy", List.of("cid", "debug", "memory")));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"enclave", "_svc", "web-users", "samba$", "0", "1000",
            "4294967294"})
    void groupsAreNamesOrGids(String text) throws InvalidValueException {
        assertEquals(text, new GroupType().parse(text));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"Enclave", "1abc", "a b", "4294967295", "-1",
            "group:x", "averyveryverylonggroupnamethatgoesonandon"})
    void groupsThatUseraddWouldRefuseAreMalformed(String text) {
        InvalidValueException e = assertThrows(InvalidValueException.class, () -> new GroupType().parse(text));
        assertEquals(ConfigErrors.MALFORMED_VALUE, e.code());
        assertTrue(e.getMessage().contains(text), e.getMessage());
    }
}
