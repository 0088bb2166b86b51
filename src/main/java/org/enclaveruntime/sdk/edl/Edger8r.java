package org.enclaveruntime.sdk.edl;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.errors.IoReason;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** `sdk edger8r`: reads an EDL with its imports and writes the bridges; nothing is written when the EDL is refused. */
public final class Edger8r {
    private Edger8r() {
    }

    /**
     * @param javaPackage null for no Java proxy; otherwise the package of the interface and proxy written
     *                    under {@code javaDir}
     */
    public record Request(Path edl, List<Path> searchPath, boolean trusted, boolean untrusted, Path trustedDir,
                          Path untrustedDir, String javaPackage, Path javaDir) {
        public Request {
            searchPath = List.copyOf(searchPath);
        }
    }

    /** What was written; JSON fields in snake_case. */
    public record Result(String edl, String name, int ecalls, int ocalls, List<String> files, List<String> warnings) {
    }

    public static Result run(Request r) {
        Edl edl = EdlResolver.load(r.edl(), r.searchPath());
        Map<Path, String> out = new LinkedHashMap<>();
        CBridgeGenerator c = new CBridgeGenerator(edl);
        c.generate(r.trusted(), false).forEach((name, text) -> out.put(r.trustedDir().resolve(name), text));
        c.generate(false, r.untrusted()).forEach((name, text) -> out.put(r.untrustedDir().resolve(name), text));
        if (r.javaPackage() != null) {
            JavaProxyGenerator j = new JavaProxyGenerator(edl, r.javaPackage());
            Path dir = r.javaDir().resolve(r.javaPackage().replace('.', '/'));
            j.generate().forEach((name, text) -> out.put(dir.resolve(name), text));
        }
        List<String> written = new ArrayList<>();
        for (Map.Entry<Path, String> e : out.entrySet()) {
            write(e.getKey(), e.getValue());
            written.add(e.getKey().toString());
        }
        return new Result(r.edl().toString(), edl.name(), edl.trusted().size(), edl.untrusted().size(), written,
                edl.warnings());
    }

    /** Replaces the file atomically, so a build never sees half a bridge. */
    private static void write(Path file, String text) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            try {
                Files.writeString(tmp, text, StandardCharsets.UTF_8);
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new EnclaveException(GeneralErrors.IO, "cannot write " + file + ": " + IoReason.of(e));
        }
    }
}
