package org.enclaveruntime.sdk.edl;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every file in src/test/resources/edl/refused is refused: its first line, `// expect: CODE [LINE:COL] words`,
 * gives the error code, where the message must point in that file, and words the reason must contain.
 * Nothing may be written for a refused file.
 */
class EdlRefusalTest {
    private static final Path DIR = Path.of("src/test/resources/edl/refused");
    private static final Pattern EXPECT = Pattern.compile("// expect: (E\\d{3})(?: (\\d+:\\d+))? (.+)");

    @TestFactory
    Stream<DynamicTest> everyRefusalNamesFileLineAndReason() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(DIR)) {
            files = s.filter(p -> p.toString().endsWith(".edl")).sorted().toList();
        }
        assertTrue(files.size() >= 40, "the refusal corpus lost files: " + files.size());
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> refused(f)));
    }

    private static void refused(Path edl) throws IOException {
        String first = Files.readAllLines(edl).get(0);
        Matcher m = EXPECT.matcher(first);
        assertTrue(m.matches(), edl + ": first line must be `// expect: CODE [LINE:COL] words`: " + first);
        Path out = Files.createTempDirectory("edl-refused");
        try {
            EnclaveException e = assertThrows(EnclaveException.class, () -> Edger8r.run(new Edger8r.Request(edl,
                    List.of(), true, true, out, out, null, null)));
            assertEquals(m.group(1), e.code().id(), e.getMessage());
            if (m.group(2) != null) {
                assertTrue(e.getMessage().startsWith(edl + ":" + m.group(2) + ": "),
                        "expected the position " + m.group(2) + " in: " + e.getMessage());
            }
            assertTrue(e.getMessage().contains(m.group(3)), "expected '" + m.group(3) + "' in: " + e.getMessage());
            try (Stream<Path> written = Files.list(out)) {
                assertFalse(written.findAny().isPresent(), "a refused EDL wrote files");
            }
        } finally {
            Files.walk(out).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
