package org.enclaveruntime.config;

import org.enclaveruntime.errors.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.enclaveruntime.config.ConfigErrors.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each malformed file, written to disk and loaded, must fail with its code, at its line, naming its key. */
class MalformedConfigTest {
    @TempDir
    Path dir;

    /**
     * @param key      what the message must name right after "FILE:LINE: " (a key, a [section], a quoted line)
     * @param contains a further fragment the message must contain (what is allowed, the hint)
     */
    record Case(String name, String text, ErrorCode code, int line, String key, String contains) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                // syntax: ini4j stops at the line
                new Case("unterminated section", "[enclave\ncpu_count = 2\n", SYNTAX, 1, "'[enclave'", "closing ']'"),
                new Case("line without =", "[enclave]\ncpu_count 2\n", SYNTAX, 2, "'cpu_count 2'", "key = value"),
                new Case("key outside section", "image = /x\n[enclave]\n", SYNTAX, 1, "image", "under [enclave]"),
                new Case("comment after header", "[enclave] ; main\n", SYNTAX, 1, "'[enclave] ; main'", "own"),
                new Case("empty section name", "[]\n", SYNTAX, 1, "'[]'", "empty section name"),
                new Case("no key before =", "[enclave]\n= 5\n", SYNTAX, 2, "'= 5'", "no key"),
                new Case("no continuation lines", "[vsock]\nsocket = /a\\\n/b\n", SYNTAX, 3, "'/b'", "key = value"),
                // names
                new Case("misspelt section", "[enclav]\n", UNKNOWN_SECTION, 1, "[enclav]", "did you mean [enclave]?"),
                new Case("section in capitals", "; c\n[Vsock]\n", UNKNOWN_SECTION, 2, "[Vsock]", "[vsock]"),
                new Case("misspelt key", "[enclave]\ncpu_cont = 2\n", UNKNOWN_KEY, 2, "cpu_cont", "did you mean cpu_count?"),
                new Case("key in wrong section", "[runtime]\nsocket = /x\n", UNKNOWN_KEY, 2, "socket", "belongs in [vsock]"),
                new Case("unknown key, no near one", "[vsock]\nxyzzy = 1\n", UNKNOWN_KEY, 2, "xyzzy", "keys of [vsock] are socket"),
                new Case("duplicate key", "[enclave]\nmemory = 1G\n\nmemory = 2G\n", DUPLICATE_KEY, 4, "memory", "first on line 2"),
                new Case("duplicate section", "[enclave]\ncpu_count = 1\n[vsock]\n[enclave]\ncid = 5\n", DUPLICATE_SECTION, 4,
                        "[enclave]", "first on line 1"),
                // relations between keys
                new Case("cpu_count and cpu_ids", "[enclave]\ncpu_count = 2\ncpu_ids = 0-1\n", CONFLICTING_KEYS, 3, "cpu_ids",
                        "cpu_count (" + "FILE:2)"),
                new Case("require_signed without cert", "[enclave]\nrequire_signed = true\n", MISSING_KEY, 2, "require_signed",
                        "trusted_cert"),
                // empty values
                new Case("empty value", "[enclave]\nmemory =\n", EMPTY_VALUE, 2, "memory", "default 1024M"),
                new Case("only a comment", "[enclave]\nmemory = ; later\n", EMPTY_VALUE, 2, "memory", "a multiple of 2M"),
                new Case("empty cpu list", "[enclave]\ncpu_ids =\n", EMPTY_VALUE, 2, "cpu_ids", "CPU list"),
                // malformed
                new Case("word for number", "[enclave]\ncpu_count = two\n", MALFORMED_VALUE, 2, "cpu_count",
                        "'two' is not a whole number (1..256)"),
                new Case("fraction for number", "[enclave]\ncpu_count = 2.5\n", MALFORMED_VALUE, 2, "cpu_count", "'2.5'"),
                new Case("fractional size", "[enclave]\nmemory = 1.5G\n", MALFORMED_VALUE, 2, "memory", "smaller unit"),
                new Case("negative size", "[enclave]\nmemory = -64M\n", MALFORMED_VALUE, 2, "memory", "'-64M'"),
                new Case("comment kept out of value", "[enclave]\ncpu_count = two ; two CPUs\n", MALFORMED_VALUE, 2,
                        "cpu_count", "'two' is not"),
                // units
                new Case("size without unit", "[enclave]\nmemory = 1024\n", BAD_UNIT, 2, "memory", "add a unit, e.g. 1024M"),
                new Case("decimal unit", "[enclave]\nmemory = 4MB\n", BAD_UNIT, 2, "memory", "ambiguous"),
                new Case("unknown size unit", "[enclave]\nmemory = 1T\n", BAD_UNIT, 2, "memory", "unknown unit 'T'"),
                new Case("duration without unit", "[enclave]\nboot_timeout = 10\n", BAD_UNIT, 2, "boot_timeout", "e.g. 10s"),
                new Case("unknown duration unit", "[enclave]\nboot_timeout = 1h\n", BAD_UNIT, 2, "boot_timeout", "ms, s or m"),
                // ranges
                new Case("zero CPUs", "[enclave]\ncpu_count = 0\n", OUT_OF_RANGE, 2, "cpu_count", "(1..256)"),
                new Case("too many CPUs", "[enclave]\ncpu_count = 257\n", OUT_OF_RANGE, 2, "cpu_count", "(1..256)"),
                new Case("too little memory", "[enclave]\nmemory = 32M\n", OUT_OF_RANGE, 2, "memory", "minimum 64M"),
                new Case("memory not 2M aligned", "[enclave]\nmemory = 1025M\n", OUT_OF_RANGE, 2, "memory", "multiple of 2M"),
                new Case("too much memory", "[enclave]\nmemory = 2048G\n", OUT_OF_RANGE, 2, "memory", "maximum 1024G"),
                new Case("reserved cid", "[enclave]\ncid = 2\n", OUT_OF_RANGE, 2, "cid", "3..4294967294"),
                new Case("cid 2^32-1", "[enclave]\ncid = 4294967295\n", OUT_OF_RANGE, 2, "cid", "3..4294967294"),
                new Case("huge number", "[enclave]\ncid = 99999999999999999999999\n", OUT_OF_RANGE, 2, "cid", "out of range"),
                new Case("timeout too short", "[enclave]\nboot_timeout = 50ms\n", OUT_OF_RANGE, 2, "boot_timeout", "100ms..10m"),
                new Case("timeout too long", "[enclave]\nboot_timeout = 11m\n", OUT_OF_RANGE, 2, "boot_timeout", "100ms..10m"),
                new Case("reserve too small", "[enclave]\nreserve_memory = 1M\n", OUT_OF_RANGE, 2, "reserve_memory", "minimum 64M"),
                // CPU lists
                new Case("backward range", "[enclave]\ncpu_ids = 3-1\n", BAD_CPU_LIST, 2, "cpu_ids", "write 1-3"),
                new Case("letters in range", "[enclave]\ncpu_ids = a-b\n", BAD_CPU_LIST, 2, "cpu_ids", "'a' is not a CPU number"),
                new Case("double comma", "[enclave]\ncpu_ids = 1,,2\n", BAD_CPU_LIST, 2, "cpu_ids", "empty element"),
                new Case("trailing comma", "[enclave]\ncpu_ids = 1,2,\n", BAD_CPU_LIST, 2, "cpu_ids", "empty element"),
                new Case("repeated CPU", "[enclave]\ncpu_ids = 1-3,2\n", BAD_CPU_LIST, 2, "cpu_ids", "CPU 2 is listed twice"),
                new Case("open range", "[enclave]\ncpu_ids = 1-\n", BAD_CPU_LIST, 2, "cpu_ids", "lacks a number"),
                new Case("CPU id too high", "[enclave]\ncpu_ids = 4096\n", BAD_CPU_LIST, 2, "cpu_ids", "maximum 4095"),
                // paths
                new Case("relative path", "[runtime]\nlog_dir = var/log\n", RELATIVE_PATH, 2, "log_dir", "starting with /"),
                new Case("quoted path", "[enclave]\nimage = \"/a/b\"\n", RELATIVE_PATH, 2, "image", "no quotes"),
                new Case("relative cert", "[enclave]\nrequire_signed = true\ntrusted_cert = cert.pem\n", RELATIVE_PATH, 3,
                        "trusted_cert", "absolute"),
                // words
                new Case("not a boolean", "[enclave]\ndebug = maybe\n", BAD_CHOICE, 2, "debug", "true or false"),
                new Case("bad hugepage size", "[runtime]\nhugepages = 4M\n", BAD_CHOICE, 2, "hugepages", "auto, 2M, 1G, off"),
                new Case("bad isolation", "[runtime]\nisolate = full\n", BAD_CHOICE, 2, "isolate", "cpuset, none"),
                // line counting
                new Case("CRLF lines", "[enclave]\r\n\r\ncpu_count = 300\r\n", OUT_OF_RANGE, 3, "cpu_count", "1..256"),
                new Case("after comments and blanks", "; a\n# b\n\n[enclave]\n  ; indented comment\n\nmemory = 3M\n",
                        OUT_OF_RANGE, 7, "memory", "minimum"),
                new Case("old Mac line ends", "[enclave]\rcid = 1\r", OUT_OF_RANGE, 2, "cid", "3.."));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void isRefusedWithCodeLineAndKey(Case c) throws IOException {
        Path file = dir.resolve("enclave.conf");
        Files.writeString(file, c.text());

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> load(file));

        ConfigProblem first = e.problems().get(0);
        assertEquals(c.code(), first.code(), first.message());
        assertEquals(c.line(), first.line(), first.message());
        assertTrue(first.message().startsWith(file + ":" + c.line() + ": " + c.key()), first.message());
        String expected = c.contains().replace("FILE", file.toString());
        assertTrue(first.message().contains(expected), () -> first.message() + "\n  should contain: " + expected);
        assertEquals(c.code(), e.code());
    }

    @Test
    void tableIsLargeAndCoversEveryValueCode() {
        List<Case> all = cases().toList();
        assertTrue(all.size() >= 30, "at least 30 malformed files");
        for (ErrorCode code : ConfigErrors.ALL) {
            if (code != FILE_NOT_FOUND && code != FILE_UNREADABLE) {
                assertTrue(all.stream().anyMatch(c -> c.code() == code), "no malformed file for " + code.id());
            }
        }
    }

    @Test
    void everyProblemOfAFileIsReportedInLineOrder() throws IOException {
        Path file = dir.resolve("many.conf");
        Files.writeString(file, """
                [enclave]
                memory = 1024
                cpu_count = two
                [vsok]
                key = 1
                [runtime]
                log_dir = relative
                """);

        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> load(file));

        assertEquals(List.of(2, 3, 4, 7), e.problems().stream().map(ConfigProblem::line).toList());
        assertEquals(List.of(BAD_UNIT, MALFORMED_VALUE, UNKNOWN_SECTION, RELATIVE_PATH),
                e.problems().stream().map(ConfigProblem::code).toList());
        String[] lines = e.getMessage().split("\n");
        assertEquals(4, lines.length, e.getMessage());
        assertTrue(lines[1].startsWith("error E208: " + file + ":3: cpu_count:"), lines[1]);
        assertTrue(e.remedy().contains("4 problems"), e.remedy());
    }

    @Test
    void directoryAndNonUtf8AreUnreadable() throws IOException {
        Path binary = dir.resolve("binary.conf");
        Files.write(binary, new byte[] {'[', 'e', ']', '\n', (byte) 0xC3, (byte) 0x28});
        assertEquals(FILE_UNREADABLE, assertThrows(org.enclaveruntime.errors.EnclaveException.class,
                () -> load(binary)).code());
        assertEquals(FILE_UNREADABLE, assertThrows(org.enclaveruntime.errors.EnclaveException.class,
                () -> load(dir)).code());
    }

    private LoadedConfig load(Path file) {
        return ConfigLoader.load(file, Map.of(), ConfigOverrides.NONE, dir.resolve("no-system.conf"));
    }
}
