package org.enclaveruntime.sdk.edl;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.errors.IoReason;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an EDL file and the files it imports (next to the importing file first, then each --search-path
 * directory in order), refuses import cycles, and merges everything into one {@link Edl}: the root file's
 * functions first, then the imported ones in import order.
 */
public final class EdlResolver {
    private final List<Path> searchPath;
    private final Map<Path, Resolved> done = new HashMap<>();
    private final Deque<Path> stack = new ArrayDeque<>();
    private final List<String> warnings = new ArrayList<>();

    private EdlResolver(List<Path> searchPath) {
        this.searchPath = List.copyOf(searchPath);
    }

    /** What one file contributes, with its own imports folded in. Maps keep insertion order and dedupe by name. */
    private record Resolved(Map<String, EdlFunction> trusted, Map<String, EdlFunction> untrusted,
                            Map<String, TypeDecl> types, List<String> includes) {
    }

    public static Edl load(Path edl, List<Path> searchPath) {
        EdlResolver r = new EdlResolver(searchPath);
        Resolved all = r.resolve(edl, edl.toString());
        String file = edl.getFileName().toString();
        String name = file.endsWith(".edl") ? file.substring(0, file.length() - 4) : file;
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new EnclaveException(EdlErrors.INVALID, edl + ": the file name '" + name
                    + "' names the generated files and C symbols; use letters, digits and '_'");
        }
        List<EdlFunction> trusted = new ArrayList<>(all.trusted().values());
        List<EdlFunction> untrusted = new ArrayList<>(all.untrusted().values());
        if (trusted.stream().noneMatch(EdlFunction::isPublic)) {
            throw new EnclaveException(EdlErrors.INVALID, edl + ": the enclave has no public ECALL; mark at least one "
                    + "trusted function `public` (private ECALLs can only be called from an OCALL's allow list)");
        }
        for (EdlFunction o : untrusted) {
            for (String a : o.allow()) {
                if (!all.trusted().containsKey(a)) {
                    throw new EnclaveException(EdlErrors.INVALID, o.pos() + ": allow(" + a + ") on " + o.name()
                            + " names no trusted function");
                }
            }
        }
        for (EdlFunction t : trusted) {
            if (all.untrusted().containsKey(t.name())) {
                throw new EnclaveException(EdlErrors.INVALID, t.pos() + ": '" + t.name() + "' is both an ECALL and "
                        + "an OCALL (the OCALL at " + all.untrusted().get(t.name()).pos() + ")");
            }
        }
        return new Edl(name, all.includes(), new ArrayList<>(all.types().values()), trusted, untrusted, r.warnings);
    }

    private Resolved resolve(Path file, String display) {
        Path key = canonical(file);
        if (stack.contains(key)) {
            throw new IllegalStateException("cycle reached resolve: " + key);
        }
        Resolved cached = done.get(key);
        if (cached != null) {
            return cached;
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new EnclaveException(GeneralErrors.IO, "cannot read " + display + ": " + IoReason.of(e));
        }
        EdlUnit unit = EdlParser.parse(file, display, text);
        warnings.addAll(unit.warnings());
        stack.push(key);
        Resolved r = new Resolved(new LinkedHashMap<>(), new LinkedHashMap<>(), new LinkedHashMap<>(), new ArrayList<>());
        r.includes().addAll(unit.includes());
        for (TypeDecl t : unit.types()) {
            addType(r, t);
        }
        for (EdlFunction f : unit.trusted()) {
            addFunction(r.trusted(), r.untrusted(), f);
        }
        for (EdlFunction f : unit.untrusted()) {
            addFunction(r.untrusted(), r.trusted(), f);
        }
        for (EdlUnit.Import imp : unit.imports()) {
            Path target = find(file, imp);
            Path targetKey = canonical(target);
            if (stack.contains(targetKey)) {
                List<String> chain = new ArrayList<>();
                stack.descendingIterator().forEachRemaining(p -> chain.add(p.getFileName().toString()));
                chain.add(target.getFileName().toString());
                throw new EnclaveException(EdlErrors.IMPORT, imp.pos() + ": import cycle: " + String.join(" -> ", chain));
            }
            Resolved sub = resolve(target, target.toString());
            for (String inc : sub.includes()) {
                if (!r.includes().contains(inc)) {
                    r.includes().add(inc);
                }
            }
            for (TypeDecl t : sub.types().values()) {
                addType(r, t);
            }
            if (imp.names().isEmpty()) {
                sub.trusted().values().forEach(f -> addFunction(r.trusted(), r.untrusted(), f));
                sub.untrusted().values().forEach(f -> addFunction(r.untrusted(), r.trusted(), f));
            } else {
                for (String n : imp.names()) {
                    if (sub.trusted().containsKey(n)) {
                        addFunction(r.trusted(), r.untrusted(), sub.trusted().get(n));
                    } else if (sub.untrusted().containsKey(n)) {
                        addFunction(r.untrusted(), r.trusted(), sub.untrusted().get(n));
                    } else {
                        throw new EnclaveException(EdlErrors.IMPORT, imp.pos() + ": " + imp.file() + " defines no "
                                + "function '" + n + "'");
                    }
                }
            }
        }
        stack.pop();
        done.put(key, r);
        return r;
    }

    private Path find(Path importer, EdlUnit.Import imp) {
        List<Path> tried = new ArrayList<>();
        Path dir = importer.toAbsolutePath().getParent();
        tried.add(dir.resolve(imp.file()));
        for (Path p : searchPath) {
            tried.add(p.resolve(imp.file()));
        }
        for (Path p : tried) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new EnclaveException(EdlErrors.IMPORT, imp.pos() + ": cannot find " + imp.file() + " (looked in "
                + String.join(", ", tried.stream().map(p -> p.getParent().toString()).toList()) + ")");
    }

    private static void addFunction(Map<String, EdlFunction> into, Map<String, EdlFunction> other, EdlFunction f) {
        EdlFunction old = into.get(f.name());
        if (old == null) {
            old = other.get(f.name());
        }
        if (old != null && !old.equals(f)) {
            throw new EnclaveException(EdlErrors.INVALID, f.pos() + ": function '" + f.name() + "' is already defined at "
                    + old.pos());
        }
        into.putIfAbsent(f.name(), f);
    }

    private static void addType(Resolved r, TypeDecl t) {
        String key = t.name().isEmpty() ? "enum@" + t.pos() : t.name();
        TypeDecl old = r.types().get(key);
        if (old != null && !old.equals(t)) {
            throw new EnclaveException(EdlErrors.INVALID, t.pos() + ": type '" + t.name() + "' is already defined at "
                    + old.pos());
        }
        r.types().putIfAbsent(key, t);
    }

    private static Path canonical(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }
}
