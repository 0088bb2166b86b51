package org.enclaveruntime.sdk.edl;

import org.enclaveruntime.errors.EnclaveException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Parses one EDL file (grammar in docs/sdk-edl.md) and checks each declaration on its own: attributes against
 * types, size/count references. Rules that need the imports (duplicates across files, allow lists) are
 * {@link EdlResolver}'s.
 */
final class EdlParser {
    private static final Set<String> C_TYPE_WORDS = Set.of("void", "char", "short", "int", "long", "float",
            "double", "signed", "unsigned");
    private static final Set<String> RESERVED = Set.of("enclave", "trusted", "untrusted", "public", "include",
            "from", "import", "struct", "union", "enum", "const", "allow", "propagate_errno",
            "transition_using_threads", "typedef");
    private static final Set<String> IGNORED_FUNCTION_ATTRS = Set.of("cdecl", "stdcall", "fastcall", "dllimport");

    private final List<Token> tokens;
    private final Path path;
    private int at;
    private final List<String> warnings = new ArrayList<>();

    private EdlParser(Path path, List<Token> tokens) {
        this.path = path;
        this.tokens = tokens;
    }

    static EdlUnit parse(Path path, String displayName, String text) {
        return new EdlParser(path, EdlLexer.tokens(displayName, text)).file();
    }

    private EdlUnit file() {
        List<String> includes = new ArrayList<>();
        List<EdlUnit.Import> imports = new ArrayList<>();
        List<TypeDecl> types = new ArrayList<>();
        List<EdlFunction> trusted = new ArrayList<>();
        List<EdlFunction> untrusted = new ArrayList<>();
        expect("enclave", "an EDL file starts with `enclave {`");
        expect("{", "after `enclave`");
        while (!peek().is("}")) {
            Token t = peek();
            if (t.kind() == Token.Kind.EOF) {
                throw syntax(t, "missing '}' closing `enclave {`");
            }
            switch (t.text()) {
                case "include" -> {
                    next();
                    Token file = next();
                    if (file.is("<")) {
                        throw unsupported(file, "`include <x.h>`: EDL includes name a header in quotes, "
                                + "`include \"x.h\"`");
                    }
                    if (file.kind() != Token.Kind.STRING || file.text().isEmpty()) {
                        throw syntax(file, "`include` takes a header name in quotes, found " + file.describe());
                    }
                    includes.add(file.text());
                    optional(";");
                }
                case "from" -> imports.add(importDecl());
                case "trusted" -> {
                    next();
                    section(trusted, true);
                }
                case "untrusted" -> {
                    next();
                    section(untrusted, false);
                }
                case "struct", "union" -> types.add(aggregate());
                case "enum" -> types.add(enumeration());
                case "typedef" -> throw unsupported(t, "`typedef` is not part of EDL; define the type in a header "
                        + "and `include` it, or use `struct name { ... };`");
                default -> throw syntax(t, "expected include, from, trusted, untrusted, struct, union or enum, "
                        + "found " + t.describe());
            }
        }
        next();
        optional(";");
        Token end = peek();
        if (end.kind() != Token.Kind.EOF) {
            throw syntax(end, "nothing may follow the `enclave { ... };` block, found " + end.describe());
        }
        return new EdlUnit(path, includes, imports, types, trusted, untrusted, warnings);
    }

    private EdlUnit.Import importDecl() {
        Token from = next();
        Token file = next();
        if (file.kind() != Token.Kind.STRING || file.text().isEmpty()) {
            throw syntax(file, "`from` takes an EDL file name in quotes, found " + file.describe());
        }
        expect("import", "after `from \"" + file.text() + "\"`");
        List<String> names = new ArrayList<>();
        if (peek().is("*")) {
            next();
        } else {
            do {
                names.add(identifier("a function name to import"));
            } while (optional(","));
        }
        expect(";", "after the import list");
        return new EdlUnit.Import(file.text(), names, from.pos());
    }

    private void section(List<EdlFunction> into, boolean trusted) {
        expect("{", "after `" + (trusted ? "trusted" : "untrusted") + "`");
        while (!peek().is("}")) {
            if (peek().kind() == Token.Kind.EOF) {
                throw syntax(peek(), "missing '}' closing the " + (trusted ? "trusted" : "untrusted") + " section");
            }
            boolean definition = (peek().is("struct") || peek().is("enum") || peek().is("union"))
                    && (peek(1).is("{") || peek(2).is("{"));
            if (peek().is("include") || peek().is("from") || definition) {
                throw syntax(peek(), "`" + peek().text() + "` belongs directly inside `enclave { }`, not in a "
                        + (trusted ? "trusted" : "untrusted") + " section");
            }
            into.add(function(trusted));
        }
        next();
        expect(";", "after the " + (trusted ? "trusted" : "untrusted") + " section's '}'");
    }

    private EdlFunction function(boolean trusted) {
        SourcePos start = peek().pos();
        boolean isPublic = false;
        if (peek().is("public")) {
            if (!trusted) {
                throw invalid(peek(), "`public` applies to ECALLs only; OCALLs are always callable from the enclave");
            }
            next();
            isPublic = true;
        }
        if (peek().is("[")) {
            Token open = next();
            do {
                Token a = next();
                if (a.kind() != Token.Kind.IDENT) {
                    throw syntax(a, "expected a function attribute, found " + a.describe());
                }
                if (!IGNORED_FUNCTION_ATTRS.contains(a.text())) {
                    throw unsupported(a, "function attribute [" + a.text() + "] is unknown (cdecl, stdcall, "
                            + "fastcall and dllimport are accepted and ignored)");
                }
                warnings.add(a.pos() + ": [" + a.text() + "] ignored: x86-64 Linux has one calling convention");
            } while (optional(","));
            expect("]", "closing the function attributes opened at " + open.pos());
        }
        CType returns = type("the return type");
        if (peek().is("[")) {
            throw unsupported(peek(), "a function cannot return an array");
        }
        Token name = peek();
        String fname = identifier("the function name");
        expect("(", "after the function name " + fname);
        List<Param> params = params(fname);
        List<String> allow = new ArrayList<>();
        boolean propagate = false;
        boolean allowSeen = false;
        while (!peek().is(";")) {
            Token t = next();
            switch (t.text()) {
                case "allow" -> {
                    if (trusted) {
                        throw invalid(t, "allow() belongs to OCALLs: it lists the ECALLs an OCALL may make");
                    }
                    if (allowSeen) {
                        throw invalid(t, "a second allow() on " + fname);
                    }
                    allowSeen = true;
                    expect("(", "after allow");
                    if (!peek().is(")")) {
                        do {
                            allow.add(identifier("an ECALL name"));
                        } while (optional(","));
                    }
                    expect(")", "closing allow(");
                }
                case "propagate_errno" -> {
                    if (trusted) {
                        throw invalid(t, "propagate_errno belongs to OCALLs: it copies the host's errno into the enclave");
                    }
                    propagate = true;
                }
                case "transition_using_threads" -> warnings.add(t.pos() + ": transition_using_threads ignored on "
                        + fname + ": every call crosses on its connection; there are no switchless calls");
                default -> throw syntax(t, "expected ';' after " + fname + "(...), found " + t.describe());
            }
        }
        next();
        checkNames(fname, name, params);
        return new EdlFunction(fname, returns, params, isPublic, allow, propagate, start);
    }

    private List<Param> params(String fname) {
        List<Param> params = new ArrayList<>();
        if (peek().is(")")) {
            next();
            return params;
        }
        if (peek().is("void") && peek(1).is(")")) {
            next();
            next();
            return params;
        }
        do {
            if (peek().is("...")) {
                throw unsupported(peek(), "variadic functions cannot be marshalled: every parameter needs a type");
            }
            params.add(param(fname));
        } while (optional(","));
        expect(")", "closing the parameters of " + fname);
        return params;
    }

    private Param param(String fname) {
        Token first = peek();
        Attrs attrs = new Attrs();
        if (peek().is("[")) {
            next();
            do {
                attribute(attrs);
            } while (optional(","));
            expect("]", "closing the parameter attributes");
        }
        CType type = type("a parameter type");
        if (type.isVoid()) {
            throw invalid(first, "a parameter of " + fname + " has type void; write `(void)` or leave out the parameter");
        }
        Token nameTok = peek();
        String name = identifier("a parameter name (EDL parameters must be named)");
        List<Long> dims = dims();
        ParamAttrs a = attrs.build();
        Param p = new Param(type, name, dims, a, nameTok.pos());
        checkAttributes(p, attrs, fname);
        return p;
    }

    /** Collected while parsing, with the token of each attribute for error positions. */
    private static final class Attrs {
        Token in, out, string, wstring, size, count, userCheck, isptr, readonly;
        String sizeValue, countValue;
        Token sizeValueTok, countValueTok;

        ParamAttrs build() {
            return new ParamAttrs(in != null, out != null, string != null, wstring != null, sizeValue, countValue,
                    userCheck != null, isptr != null, readonly != null);
        }
    }

    private void attribute(Attrs a) {
        Token t = next();
        if (t.kind() != Token.Kind.IDENT) {
            throw syntax(t, "expected a parameter attribute, found " + t.describe());
        }
        switch (t.text()) {
            case "in" -> a.in = once(a.in, t);
            case "out" -> a.out = once(a.out, t);
            case "string" -> a.string = once(a.string, t);
            case "wstring" -> a.wstring = once(a.wstring, t);
            case "user_check" -> a.userCheck = once(a.userCheck, t);
            case "isptr" -> a.isptr = once(a.isptr, t);
            case "readonly" -> a.readonly = once(a.readonly, t);
            case "size", "count" -> {
                boolean size = t.text().equals("size");
                once(size ? a.size : a.count, t);
                expect("=", "after " + t.text());
                Token v = next();
                if (v.kind() == Token.Kind.NUMBER) {
                    if (!v.text().matches("[1-9][0-9]{0,17}|0[xX][0-9a-fA-F]{1,15}")) {
                        throw invalid(v, t.text() + "=" + v.text() + ": expected a positive decimal or hex number");
                    }
                } else if (v.kind() != Token.Kind.IDENT || C_TYPE_WORDS.contains(v.text())) {
                    throw (v.is("sizeof")
                            ? unsupported(v, t.text() + "=sizeof(...): name a parameter or write the number")
                            : syntax(v, "expected a number or a parameter name after " + t.text() + "=, found "
                            + v.describe()));
                }
                if (v.kind() == Token.Kind.IDENT && v.text().equals("sizeof")) {
                    throw unsupported(v, t.text() + "=sizeof(...): name a parameter or write the number");
                }
                if (peek().is("*") || peek().is("(")) {
                    throw unsupported(peek(), t.text() + "= takes one number or one parameter name, not an expression");
                }
                if (size) {
                    a.size = t;
                    a.sizeValue = v.text();
                    a.sizeValueTok = v;
                } else {
                    a.count = t;
                    a.countValue = v.text();
                    a.countValueTok = v;
                }
            }
            case "sizefunc" -> throw unsupported(t, "[sizefunc] is deprecated in SGX and not supported: compute the "
                    + "size in the caller and pass it as a parameter named in [size=param]");
            case "isary" -> throw unsupported(t, "[isary] (array typedefs) is not supported: pass a pointer with "
                    + "[count=N] or a parameter declared with [N]");
            default -> throw invalid(t, "unknown parameter attribute [" + t.text() + "] (known: in, out, string, "
                    + "wstring, size, count, user_check, isptr, readonly)");
        }
    }

    private Token once(Token seen, Token t) {
        if (seen != null) {
            throw invalid(t, "attribute [" + t.text() + "] given twice (first at " + seen.pos() + ")");
        }
        return t;
    }

    /** Rules for one parameter on its own; size/count references are checked with all parameters in {@link #checkNames}. */
    private void checkAttributes(Param p, Attrs t, String fname) {
        ParamAttrs a = p.attrs();
        String what = "parameter '" + p.name() + "' of " + fname;
        Token where = t.in != null ? t.in : t.out != null ? t.out : t.userCheck != null ? t.userCheck : null;
        SourcePos pos = where != null ? where.pos() : p.pos();
        if (a.readonly() && !a.isptr()) {
            throw invalid(t.readonly, "[readonly] applies to [isptr] parameters only (" + what + ")");
        }
        if (a.isptr() && (p.type().isPointer() || p.isArray())) {
            throw invalid(t.isptr, "[isptr] marks a typedef'd pointer type; " + what + " is already a pointer or array");
        }
        if (!p.isBuffer()) {
            Token bad = first(t.in, t.out, t.string, t.wstring, t.size, t.count, t.userCheck);
            if (bad != null) {
                throw invalid(bad, "[" + bad.text() + "] applies to pointers and arrays; " + what + " has type "
                        + p.type().c() + " and is passed by value");
            }
            return;
        }
        if (a.userCheck()) {
            Token bad = first(t.in, t.out, t.string, t.wstring);
            if (bad != null) {
                throw invalid(bad, "[user_check] and [" + bad.text() + "] exclude each other (" + what
                        + "): [user_check] passes the pointer value unchecked and copies nothing");
            }
            return;
        }
        if (!a.hasDirection()) {
            throw invalid(new Token(Token.Kind.IDENT, p.name(), p.pos()), what + " is a pointer or array and needs "
                    + "[in], [out], [in, out] or [user_check]");
        }
        if (p.type().pointers() > 1) {
            throw unsupported(new Token(Token.Kind.IDENT, "", pos), what + " has type " + p.type().c()
                    + ": a pointer to pointers cannot be copied with a direction; use [user_check]");
        }
        if (a.isStringLike()) {
            Token st = a.string() ? t.string : t.wstring;
            String want = a.string() ? "char" : "wchar_t";
            if (a.string() && a.wstring()) {
                throw invalid(t.wstring, "[string] and [wstring] exclude each other (" + what + ")");
            }
            if (!p.type().base().equals(want) || p.type().pointers() != 1 || p.isArray()) {
                throw invalid(st, "[" + st.text() + "] needs a " + want + " * parameter; " + what + " is "
                        + p.type().c() + (p.isArray() ? " array" : ""));
            }
            if (!a.in()) {
                throw invalid(st, "[" + st.text() + "] needs [in] or [in, out] (" + what
                        + "): the length comes from the caller's string");
            }
            Token sz = first(t.size, t.count);
            if (sz != null) {
                throw invalid(sz, "[" + st.text() + "] and [" + sz.text() + "] exclude each other (" + what + ")");
            }
        }
        if (p.isArray()) {
            Token sz = first(t.size, t.count);
            if (sz != null) {
                throw invalid(sz, "[" + sz.text() + "] on the array " + what + ": an array's size is its declared size");
            }
        }
        if (a.out() && p.type().constBase() && !a.isptr()) {
            throw invalid(t.out, "[out] on " + what + " of type " + p.type().c() + ": the enclave cannot write into const data");
        }
        if (a.readonly() && a.out()) {
            throw invalid(t.readonly, "[readonly] and [out] exclude each other (" + what + ")");
        }
        if (p.type().isPointer() && p.type().base().equals("void") && a.size() == null) {
            throw invalid(new Token(Token.Kind.IDENT, "", pos), what + " is void *: give its size in bytes with [size=N] or [size=param]");
        }
    }

    private void checkNames(String fname, Token nameTok, List<Param> params) {
        Set<String> names = new HashSet<>();
        for (Param p : params) {
            if (p.name().startsWith("edl_") || p.name().equals("eid") || p.name().equals("retval")) {
                throw invalid(new Token(Token.Kind.IDENT, p.name(), p.pos()), "parameter name '" + p.name() + "' of "
                        + fname + " is taken by the generated code (eid, retval and names starting with edl_)");
            }
            if (!names.add(p.name())) {
                throw invalid(new Token(Token.Kind.IDENT, p.name(), p.pos()), "parameter name '" + p.name()
                        + "' used twice in " + fname);
            }
        }
        for (Param p : params) {
            for (String ref : new String[]{p.attrs().size(), p.attrs().count()}) {
                if (ref == null || Character.isDigit(ref.charAt(0))) {
                    continue;
                }
                Param target = params.stream().filter(q -> q.name().equals(ref)).findFirst().orElse(null);
                if (target == null) {
                    throw invalid(new Token(Token.Kind.IDENT, ref, p.pos()), "[size/count=" + ref + "] on '" + p.name()
                            + "' of " + fname + " names no parameter of " + fname);
                }
                if (!target.type().isInteger() || target.isArray() || target.attrs().isptr()) {
                    throw invalid(new Token(Token.Kind.IDENT, ref, p.pos()), "[size/count=" + ref + "] on '"
                            + p.name() + "' of " + fname + ": '" + ref + "' has type " + target.type().c()
                            + "; it must be an integer passed by value");
                }
            }
        }
        if (RESERVED.contains(fname)) {
            throw invalid(nameTok, "'" + fname + "' is an EDL keyword and cannot name a function");
        }
    }

    private List<Long> dims() {
        List<Long> dims = new ArrayList<>();
        while (peek().is("[")) {
            next();
            Token n = next();
            if (n.kind() != Token.Kind.NUMBER || !n.text().matches("[1-9][0-9]{0,8}")) {
                throw (n.kind() == Token.Kind.IDENT || n.kind() == Token.Kind.NUMBER || n.is("]")
                        ? unsupported(n, "array dimensions must be positive decimal numbers (found "
                        + n.describe() + ")")
                        : syntax(n, "expected an array dimension, found " + n.describe()));
            }
            dims.add(Long.parseLong(n.text()));
            expect("]", "closing the array dimension");
        }
        return dims;
    }

    private CType type(String what) {
        boolean isConst = false;
        if (peek().is("const")) {
            next();
            isConst = true;
        }
        Token t = peek();
        String base;
        if (t.is("struct") || t.is("union") || t.is("enum")) {
            next();
            base = t.text() + " " + identifier("the " + t.text() + " name");
        } else if (t.kind() == Token.Kind.IDENT && C_TYPE_WORDS.contains(t.text())) {
            base = basicType();
        } else if (t.kind() == Token.Kind.IDENT && !RESERVED.contains(t.text())) {
            next();
            base = t.text();
        } else {
            throw syntax(t, "expected " + what + ", found " + t.describe());
        }
        if (peek().is("const")) {
            if (isConst) {
                throw syntax(peek(), "const given twice");
            }
            next();
            isConst = true;
        }
        int pointers = 0;
        while (peek().is("*")) {
            next();
            pointers++;
            if (peek().is("const")) {
                // A top-level or inner const on the pointer itself does not change what is copied.
                next();
            }
        }
        return new CType(base, isConst, pointers);
    }

    /** C's basic type specifiers in any order C allows, normalised to one spelling. */
    private String basicType() {
        Token first = peek();
        int signedness = 0; // 1 signed, 2 unsigned
        int longs = 0;
        String core = null;
        while (peek().kind() == Token.Kind.IDENT && C_TYPE_WORDS.contains(peek().text())) {
            Token t = next();
            switch (t.text()) {
                case "signed", "unsigned" -> {
                    if (signedness != 0) {
                        throw syntax(t, "signed/unsigned given twice");
                    }
                    signedness = t.text().equals("signed") ? 1 : 2;
                }
                case "long" -> {
                    if (++longs > 2) {
                        throw syntax(t, "too many 'long'");
                    }
                }
                default -> {
                    if (core != null && !(core.equals("int") || t.text().equals("int"))) {
                        throw syntax(t, "'" + t.text() + "' after '" + core + "'");
                    }
                    if (core == null || core.equals("int")) {
                        core = t.text();
                    }
                }
            }
        }
        if (core == null) {
            core = "int";
        }
        String where = first.pos().toString();
        if (core.equals("void") || core.equals("float")) {
            if (signedness != 0 || longs != 0) {
                throw syntax(first, "'" + core + "' takes no signed/unsigned/long (" + where + ")");
            }
            return core;
        }
        if (core.equals("double")) {
            if (signedness != 0 || longs > 1) {
                throw syntax(first, "malformed double type");
            }
            return longs == 1 ? "long double" : "double";
        }
        if (core.equals("char")) {
            if (longs != 0) {
                throw syntax(first, "'long char' is not a C type");
            }
            return signedness == 0 ? "char" : signedness == 1 ? "signed char" : "unsigned char";
        }
        if (core.equals("short")) {
            if (longs != 0) {
                throw syntax(first, "'long short' is not a C type");
            }
            return signedness == 2 ? "unsigned short" : "short";
        }
        String t = longs == 0 ? "int" : longs == 1 ? "long" : "long long";
        return signedness == 2 ? "unsigned " + t : t;
    }

    private TypeDecl aggregate() {
        Token kw = next();
        String name = identifier("the " + kw.text() + " name");
        if (peek().is(";")) {
            throw unsupported(peek(), "forward declaration of " + kw.text() + " " + name + ": define it here with its "
                    + "members or declare it in an included header");
        }
        expect("{", "after " + kw.text() + " " + name);
        List<TypeDecl.Member> members = new ArrayList<>();
        while (!peek().is("}")) {
            if (peek().is("[")) {
                throw unsupported(peek(), "attributes on members of " + kw.text() + " " + name + " (SGX's deep copy) "
                        + "are not supported: pass the buffer as its own parameter");
            }
            CType type = type("a member type");
            String member = identifier("a member name");
            members.add(new TypeDecl.Member(type, member, dims()));
            expect(";", "after member " + member);
        }
        if (members.isEmpty()) {
            throw invalid(peek(), kw.text() + " " + name + " has no members");
        }
        next();
        expect(";", "after the definition of " + kw.text() + " " + name);
        return new TypeDecl.Aggregate(kw.text(), name, members, kw.pos());
    }

    private TypeDecl enumeration() {
        Token kw = next();
        String name = peek().kind() == Token.Kind.IDENT ? identifier("the enum name") : "";
        expect("{", "after enum " + name);
        List<TypeDecl.Enumerator> values = new ArrayList<>();
        while (!peek().is("}")) {
            String v = identifier("an enumerator");
            String value = null;
            if (optional("=")) {
                StringBuilder b = new StringBuilder();
                if (peek().is("-")) {
                    b.append(next().text());
                }
                Token n = next();
                if (n.kind() != Token.Kind.NUMBER && n.kind() != Token.Kind.IDENT) {
                    throw syntax(n, "expected a number or an enumerator name after '=', found " + n.describe());
                }
                value = b.append(n.text()).toString();
            }
            values.add(new TypeDecl.Enumerator(v, value));
            if (!optional(",")) {
                break;
            }
        }
        expect("}", "closing enum " + name);
        expect(";", "after the definition of enum " + name);
        if (values.isEmpty()) {
            throw invalid(kw, "enum " + name + " has no enumerators");
        }
        return new TypeDecl.Enumeration(name, values, kw.pos());
    }

    private static Token first(Token... ts) {
        for (Token t : ts) {
            if (t != null) {
                return t;
            }
        }
        return null;
    }

    private String identifier(String what) {
        Token t = next();
        if (t.kind() != Token.Kind.IDENT || RESERVED.contains(t.text()) || C_TYPE_WORDS.contains(t.text())) {
            throw syntax(t, "expected " + what + ", found " + t.describe());
        }
        return t.text();
    }

    private Token peek() {
        return tokens.get(at);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(at + ahead, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(at);
        if (t.kind() != Token.Kind.EOF) {
            at++;
        }
        return t;
    }

    private boolean optional(String s) {
        if (peek().is(s)) {
            next();
            return true;
        }
        return false;
    }

    private void expect(String s, String context) {
        Token t = next();
        if (!t.is(s)) {
            throw syntax(t, "expected '" + s + "' " + context + ", found " + t.describe());
        }
    }

    private static EnclaveException syntax(Token t, String why) {
        return new EnclaveException(EdlErrors.SYNTAX, t.pos() + ": " + why);
    }

    private static EnclaveException unsupported(Token t, String why) {
        return new EnclaveException(EdlErrors.UNSUPPORTED, t.pos() + ": " + why);
    }

    private static EnclaveException invalid(Token t, String why) {
        return new EnclaveException(EdlErrors.INVALID, t.pos() + ": " + why);
    }
}
