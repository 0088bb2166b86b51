package org.enclaveruntime.sdk.edl;

/** Where a token starts: the file as the user named it, 1-based line and column. */
public record SourcePos(String file, int line, int column) {
    @Override
    public String toString() {
        return file + ":" + line + ":" + column;
    }
}
