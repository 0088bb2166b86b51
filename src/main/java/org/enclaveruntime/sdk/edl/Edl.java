package org.enclaveruntime.sdk.edl;

import java.util.List;

/**
 * An enclave's interface with its imports resolved: what the generator reads. ECALL indexes are positions in
 * {@code trusted}, OCALL indexes positions in {@code untrusted}.
 *
 * @param name     the base name of the EDL file (`Enclave` for Enclave.edl), which names the generated files
 * @param warnings constructs accepted but ignored, each with its file:line:column
 */
public record Edl(String name, List<String> includes, List<TypeDecl> types, List<EdlFunction> trusted,
                  List<EdlFunction> untrusted, List<String> warnings) {
    public Edl {
        includes = List.copyOf(includes);
        types = List.copyOf(types);
        trusted = List.copyOf(trusted);
        untrusted = List.copyOf(untrusted);
        warnings = List.copyOf(warnings);
    }
}
