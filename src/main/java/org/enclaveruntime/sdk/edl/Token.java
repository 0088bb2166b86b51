package org.enclaveruntime.sdk.edl;

/** One lexical token of an EDL file. */
record Token(Kind kind, String text, SourcePos pos) {
    enum Kind { IDENT, NUMBER, STRING, PUNCT, EOF }

    boolean is(String s) {
        return (kind == Kind.IDENT || kind == Kind.PUNCT) && text.equals(s);
    }

    String describe() {
        return switch (kind) {
            case EOF -> "end of file";
            case STRING -> "string \"" + text + "\"";
            default -> "'" + text + "'";
        };
    }
}
