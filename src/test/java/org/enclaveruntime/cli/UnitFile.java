package org.enclaveruntime.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** packaging/de_platform_service.service, read as key = value per section (the last assignment wins). */
record UnitFile(Path path, Map<String, Map<String, String>> sections) {
    static final Path SERVICE = Path.of(System.getProperty("enclave.project.dir", "."),
            "packaging", "de_platform_service.service");

    static UnitFile service() {
        return read(SERVICE);
    }

    static UnitFile read(Path path) {
        Map<String, Map<String, String>> sections = new LinkedHashMap<>();
        Map<String, String> current = null;
        try {
            for (String line : Files.readAllLines(path)) {
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) {
                    continue;
                }
                if (l.startsWith("[")) {
                    current = sections.computeIfAbsent(l.substring(1, l.indexOf(']')), s -> new LinkedHashMap<>());
                } else if (current != null && l.contains("=")) {
                    current.put(l.substring(0, l.indexOf('=')).strip(), l.substring(l.indexOf('=') + 1).strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new UnitFile(path, sections);
    }

    /** A [Service] value; fails the test when the key is missing. */
    String value(String key) {
        String v = sections.getOrDefault("Service", Map.of()).get(key);
        if (v == null) {
            throw new AssertionError(path + " has no " + key + "= in [Service]");
        }
        return v;
    }
}
