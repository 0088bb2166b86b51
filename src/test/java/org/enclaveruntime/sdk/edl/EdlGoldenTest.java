package org.enclaveruntime.sdk.edl;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generated files for each EDL of the good corpus (and the round-trip EDL) are the checked-in goldens under
 * src/test/resources/edl/golden/NAME. After an intended change of the generator, rerun with
 * -Dedl.updateGolden=true and review the diff.
 */
class EdlGoldenTest {
    private static final Path CORPUS = Path.of("src/test/resources/edl");
    private static final Path GOLDEN = CORPUS.resolve("golden");
    private static final boolean UPDATE = Boolean.getBoolean("edl.updateGolden");

    @TempDir
    Path work;

    @TestFactory
    Stream<DynamicTest> generatedFilesMatchTheGoldens() throws IOException {
        List<Path> edls;
        try (Stream<Path> s = Files.list(CORPUS.resolve("good"))) {
            edls = Stream.concat(s.filter(p -> p.toString().endsWith(".edl")),
                    Stream.of(CORPUS.resolve("roundtrip/RoundTrip.edl"))).sorted().toList();
        }
        return edls.stream().map(e -> DynamicTest.dynamicTest(e.getFileName().toString(), () -> compare(e)));
    }

    private void compare(Path edl) throws IOException {
        String name = edl.getFileName().toString().replace(".edl", "");
        Path out = work.resolve(name);
        boolean withJava = !name.equals("Types") && !name.equals("RoundTrip");
        Edger8r.Result r = Edger8r.run(new Edger8r.Request(edl, List.of(edl.getParent().resolve("lib")), true, true,
                out, out, withJava ? "org.example.gen" : null, withJava ? out : null));
        Path golden = GOLDEN.resolve(name);
        for (String written : r.files()) {
            Path f = Path.of(written);
            Path g = golden.resolve(out.relativize(f));
            if (UPDATE) {
                Files.createDirectories(g.getParent());
                Files.copy(f, g, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            assertTrue(Files.exists(g), "no golden " + g + " (run with -Dedl.updateGolden=true)");
            assertEquals(Files.readString(g), Files.readString(f), "generated " + f.getFileName() + " differs from " + g);
        }
        try (Stream<Path> goldens = Files.walk(golden)) {
            assertEquals(r.files().size(), goldens.filter(Files::isRegularFile).count(),
                    "golden files left over in " + golden);
        }
    }
}
