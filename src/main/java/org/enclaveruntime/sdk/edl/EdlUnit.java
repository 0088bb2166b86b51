package org.enclaveruntime.sdk.edl;

import java.nio.file.Path;
import java.util.List;

/** One EDL file as written, imports not yet resolved. */
record EdlUnit(Path path, List<String> includes, List<Import> imports, List<TypeDecl> types,
               List<EdlFunction> trusted, List<EdlFunction> untrusted, List<String> warnings) {

    /** `from "file" import names;` — an empty {@code names} is `import *`. */
    record Import(String file, List<String> names, SourcePos pos) {
    }
}
