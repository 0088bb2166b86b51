package org.enclaveruntime.cli;

import org.enclaveruntime.module.ModuleElf;
import org.enclaveruntime.module.ModuleSignature;
import org.enclaveruntime.module.SignedModule;

import java.util.List;

/** What `module describe`, `sign` and `verify` print about a checked module; JSON fields in snake_case. */
record ModuleDescription(String path, boolean signed, String mrenclave, String mrsigner, String keyType,
                         Integer prodId, Integer isvSvn, Boolean debug, Long heapMaxSize, Long stackMaxSize,
                         Long tcsNum, long imageSize, List<Segment> segments, List<String> imports,
                         int relocations) {

    record Segment(String access, long vaddr, long memSize, long fileSize) {
    }

    static ModuleDescription of(SignedModule m) {
        ModuleElf elf = m.elf();
        List<Segment> segments = elf.segments().stream()
                .map(s -> new Segment(s.access(), s.vaddr(), s.memSize(), s.fileSize())).toList();
        ModuleSignature s = m.signature().orElse(null);
        return new ModuleDescription(m.origin(), s != null, m.measurement().hex(),
                s == null ? null : s.mrsigner().hex(), s == null ? null : s.keyType().label(),
                s == null ? null : s.config().prodId(), s == null ? null : s.config().isvSvn(),
                s == null ? null : s.config().debugAllowed(), s == null ? null : s.config().heapMaxSize(),
                s == null ? null : s.config().stackMaxSize(), s == null ? null : s.config().tcsNum(),
                elf.imageSize(), segments, elf.imports(), elf.relocations().size());
    }

    String text() {
        StringBuilder t = new StringBuilder(path).append('\n');
        t.append("  mrenclave  ").append(mrenclave).append('\n');
        if (signed) {
            t.append("  mrsigner   ").append(mrsigner).append(" (").append(keyType).append(")\n");
            t.append("  prod_id ").append(prodId).append(", isv_svn ").append(isvSvn).append(", debug ")
                    .append(debug ? "allowed (DisableDebug 0)" : "disabled").append('\n');
            t.append("  heap_max 0x").append(Long.toHexString(heapMaxSize)).append(", stack_max 0x")
                    .append(Long.toHexString(stackMaxSize)).append(", tcs_num ").append(tcsNum).append('\n');
        } else {
            t.append("  not signed\n");
        }
        t.append("  memory 0x").append(Long.toHexString(imageSize)).append(" bytes, ").append(relocations)
                .append(" relocations\n");
        for (Segment s : segments) {
            t.append(String.format("  segment %s at 0x%x, 0x%x bytes (0x%x from the file)%n", s.access(), s.vaddr(),
                    s.memSize(), s.fileSize()));
        }
        t.append("  imports ").append(imports.isEmpty() ? "(none)" : String.join(", ", imports)).append('\n');
        return t.toString();
    }
}
