package org.enclaveruntime.sdk.edl;

import org.enclaveruntime.errors.EnclaveException;

import java.util.ArrayList;
import java.util.List;

/** Splits EDL text into tokens: C identifiers, numbers, "strings", punctuation; C and C++ comments skipped. */
final class EdlLexer {
    private static final String PUNCT = "{}[]();,=*<>-";

    private final String file;
    private final String text;
    private int at;
    private int line = 1;
    private int lineStart;

    private EdlLexer(String file, String text) {
        this.file = file;
        this.text = text;
    }

    static List<Token> tokens(String file, String text) {
        return new EdlLexer(file, text).run();
    }

    private List<Token> run() {
        List<Token> out = new ArrayList<>();
        while (true) {
            skipSpaceAndComments();
            SourcePos pos = pos();
            if (at >= text.length()) {
                out.add(new Token(Token.Kind.EOF, "", pos));
                return out;
            }
            char c = text.charAt(at);
            if (Character.isLetter(c) || c == '_') {
                int start = at;
                while (at < text.length() && (Character.isLetterOrDigit(text.charAt(at)) || text.charAt(at) == '_')) {
                    at++;
                }
                out.add(new Token(Token.Kind.IDENT, text.substring(start, at), pos));
            } else if (Character.isDigit(c)) {
                int start = at;
                while (at < text.length() && (Character.isLetterOrDigit(text.charAt(at)))) {
                    at++;
                }
                out.add(new Token(Token.Kind.NUMBER, text.substring(start, at), pos));
            } else if (c == '"') {
                int start = ++at;
                while (at < text.length() && text.charAt(at) != '"') {
                    if (text.charAt(at) == '\n' || text.charAt(at) == '\\') {
                        throw error(pos, "a string must end on its line with '\"' and hold no escapes");
                    }
                    at++;
                }
                if (at >= text.length()) {
                    throw error(pos, "unterminated string");
                }
                out.add(new Token(Token.Kind.STRING, text.substring(start, at++), pos));
            } else if (c == '#') {
                throw new EnclaveException(EdlErrors.UNSUPPORTED, pos + ": preprocessor directives are not "
                        + "supported in EDL; put #define and #include in a header and `include \"x.h\"` it");
            } else if (c == '.' && text.startsWith("...", at)) {
                at += 3;
                out.add(new Token(Token.Kind.PUNCT, "...", pos));
            } else if (c == '<' && !out.isEmpty() && out.get(out.size() - 1).is("include")) {
                // `include <x.h>` is refused by the parser with its reason, not as a stray character.
                at++;
                out.add(new Token(Token.Kind.PUNCT, "<", pos));
                while (at < text.length() && text.charAt(at) != '>' && text.charAt(at) != '\n') {
                    at++;
                }
            } else if (PUNCT.indexOf(c) >= 0) {
                at++;
                out.add(new Token(Token.Kind.PUNCT, String.valueOf(c), pos));
            } else {
                throw error(pos, "unexpected character '" + c + "'");
            }
        }
    }

    private void skipSpaceAndComments() {
        while (at < text.length()) {
            char c = text.charAt(at);
            if (c == '\n') {
                at++;
                line++;
                lineStart = at;
            } else if (Character.isWhitespace(c)) {
                at++;
            } else if (text.startsWith("//", at)) {
                while (at < text.length() && text.charAt(at) != '\n') {
                    at++;
                }
            } else if (text.startsWith("/*", at)) {
                SourcePos start = pos();
                int end = text.indexOf("*/", at + 2);
                if (end < 0) {
                    throw error(start, "unterminated comment");
                }
                for (int i = at; i < end; i++) {
                    if (text.charAt(i) == '\n') {
                        line++;
                        lineStart = i + 1;
                    }
                }
                at = end + 2;
            } else {
                return;
            }
        }
    }

    private SourcePos pos() {
        return new SourcePos(file, line, at - lineStart + 1);
    }

    private static EnclaveException error(SourcePos pos, String why) {
        return new EnclaveException(EdlErrors.SYNTAX, pos + ": " + why);
    }
}
