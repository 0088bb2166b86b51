package org.enclaveruntime.sdk.edl;

import org.enclaveruntime.errors.EnclaveException;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Writes, for NAME.edl, a Java interface NAME (one method per public ECALL), NAMEOcalls (one per OCALL, for the
 * application to implement) and NAMEProxy, which marshals over an {@link EdlTransport} with {@link EdlCodec}.
 * Scalars map to the Java primitive of their size; buffers to primitive arrays of their element size (byte[]
 * for void, structs and [isptr]); [string]/[wstring] to String ([in, out] ones to StringBuilder); [user_check]
 * and returned pointers to long. A type without such a mapping (a struct by value) is refused for --java.
 */
final class JavaProxyGenerator {
    private static final Set<String> I8 = Set.of("char", "signed char", "unsigned char", "int8_t", "uint8_t");
    private static final Set<String> I16 = Set.of("short", "unsigned short", "int16_t", "uint16_t");
    private static final Set<String> I32 = Set.of("int", "unsigned int", "int32_t", "uint32_t", "wchar_t");
    private static final Set<String> I64 = Set.of("long", "unsigned long", "long long", "unsigned long long",
            "int64_t", "uint64_t", "size_t");

    /** A scalar's Java form: the primitive, its size, the codec's accessor. */
    private record Kind(String java, int size, String codec, String array) {
    }

    private static final Kind K_I8 = new Kind("byte", 1, "i8", "byte[]");
    private static final Kind K_I16 = new Kind("short", 2, "i16", "short[]");
    private static final Kind K_I32 = new Kind("int", 4, "i32", "int[]");
    private static final Kind K_I64 = new Kind("long", 8, "i64", "long[]");
    private static final Kind K_F32 = new Kind("float", 4, "f32", "float[]");
    private static final Kind K_F64 = new Kind("double", 8, "f64", "double[]");

    private final Edl edl;
    private final String pkg;

    JavaProxyGenerator(Edl edl, String pkg) {
        this.edl = edl;
        this.pkg = pkg;
    }

    private Kind scalar(CType t) {
        if (t.pointers() > 0) {
            return K_I64;
        }
        String b = t.base();
        if (I8.contains(b)) return K_I8;
        if (I16.contains(b)) return K_I16;
        if (I32.contains(b) || b.startsWith("enum ") || isEdlEnum(b)) return K_I32;
        if (I64.contains(b)) return K_I64;
        if (b.equals("float")) return K_F32;
        if (b.equals("double")) return K_F64;
        return null;
    }

    private boolean isEdlEnum(String name) {
        return edl.types().stream().anyMatch(t -> t instanceof TypeDecl.Enumeration e && e.name().equals(name));
    }

    /** Element kind of a buffer, or null for raw bytes. */
    private Kind element(Param p) {
        if (p.attrs().isptr()) {
            return null;
        }
        CType el = p.isArray() ? p.type() : p.type().pointee();
        if (el.pointers() > 0 || el.base().equals("void")) {
            return el.pointers() > 0 ? K_I64 : null;
        }
        return scalar(el);
    }

    private String javaType(Param p, SourcePos where) {
        if (!p.isBuffer()) {
            Kind k = scalar(p.type());
            if (k == null) {
                throw refuse(where, "parameter '" + p.name() + "' has type " + p.type().c()
                        + ", which has no Java mapping; pass it as an [in] buffer (byte[]) instead");
            }
            return k.java();
        }
        if (p.attrs().userCheck()) {
            return "long";
        }
        if (p.attrs().isStringLike()) {
            return p.attrs().out() ? "StringBuilder" : "String";
        }
        Kind k = element(p);
        return k == null ? "byte[]" : k.array();
    }

    private String returnType(EdlFunction f) {
        if (!f.returnsValue()) {
            return "void";
        }
        Kind k = scalar(f.returns());
        if (k == null) {
            throw refuse(f.pos(), f.name() + " returns " + f.returns().c() + ", which has no Java mapping");
        }
        return k.java();
    }

    private static EnclaveException refuse(SourcePos pos, String why) {
        return new EnclaveException(EdlErrors.UNSUPPORTED, pos + ": --java: " + why);
    }

    Map<String, String> generate() {
        Map<String, String> files = new LinkedHashMap<>();
        String n = edl.name();
        StringBuilder api = header().append("/** The ECALLs of ").append(n).append(".edl. */\npublic interface ")
                .append(n).append(" {\n");
        StringBuilder ocalls = header().append("/** The OCALLs of ").append(n)
                .append(".edl: the application implements them. */\npublic interface ").append(n).append("Ocalls {\n");
        StringBuilder proxy = header().append("/** Calls ").append(n).append(".edl's ECALLs over an EdlTransport and answers its OCALLs. */\n")
                .append("public final class ").append(n).append("Proxy implements ").append(n).append(" {\n")
                .append("    private final EdlTransport transport;\n\n")
                .append("    public ").append(n).append("Proxy(EdlTransport transport, ").append(n).append("Ocalls ocalls) {\n")
                .append("        this.transport = transport;\n");
        for (int i = 0; i < edl.untrusted().size(); i++) {
            EdlFunction f = edl.untrusted().get(i);
            proxy.append("        transport.onOcall(").append(i).append(", (in, cap) -> ocall_").append(f.name())
                    .append("(ocalls, in, cap));\n");
        }
        proxy.append("    }\n\n");
        for (int i = 0; i < edl.trusted().size(); i++) {
            EdlFunction f = edl.trusted().get(i);
            if (!f.isPublic()) {
                continue;
            }
            String sig = returnType(f) + " " + f.name() + "(" + params(f) + ")";
            api.append("    ").append(sig).append(";\n");
            ecall(proxy, f, i, sig);
        }
        for (EdlFunction f : edl.untrusted()) {
            ocalls.append("    ").append(returnType(f)).append(" ").append(f.name()).append("(").append(params(f))
                    .append(");\n");
            ocallBridge(proxy, f);
        }
        files.put(n + ".java", api.append("}\n").toString());
        files.put(n + "Ocalls.java", ocalls.append("}\n").toString());
        files.put(n + "Proxy.java", proxy.append("}\n").toString());
        return files;
    }

    private StringBuilder header() {
        return new StringBuilder("// Generated by enclavectl sdk edger8r from ").append(edl.name())
                .append(".edl; do not edit.\npackage ").append(pkg).append(";\n\n")
                .append("import org.enclaveruntime.sdk.edl.EdlCodec;\nimport org.enclaveruntime.sdk.edl.EdlTransport;\n\n");
    }

    private String params(EdlFunction f) {
        return String.join(", ", f.params().stream().map(p -> javaType(p, p.pos()) + " " + p.name()).toList());
    }

    /** Java expression for a buffer's bytes as sent (null for NULL). */
    private String bytesOf(Param p) {
        if (p.attrs().string()) return "EdlCodec.cString(" + p.name() + ")";
        if (p.attrs().wstring()) return "EdlCodec.wString(" + p.name() + ")";
        return "EdlCodec.bytes(" + p.name() + ")";
    }

    private void ecall(StringBuilder b, EdlFunction f, int index, String sig) {
        b.append("    @Override\n    public ").append(sig).append(" {\n")
                .append("        EdlCodec.Writer edl_w = new EdlCodec.Writer();\n")
                .append("        EdlCodec.Sizer edl_out = new EdlCodec.Sizer();\n");
        if (f.returnsValue()) {
            b.append("        edl_out.add(").append(scalar(f.returns()).size()).append(");\n");
        }
        for (Param p : f.params()) {
            String n = p.name();
            if (!p.isBuffer()) {
                b.append("        edl_w.").append(scalar(p.type()).codec()).append("(").append(n).append(");\n");
            } else if (p.attrs().userCheck()) {
                b.append("        edl_w.i64(").append(n).append(");\n");
            } else {
                b.append("        byte[] edl_b_").append(n).append(" = ").append(bytesOf(p)).append(";\n");
                if (p.attrs().in()) {
                    b.append("        edl_w.buffer(edl_b_").append(n).append(");\n");
                } else {
                    b.append("        edl_w.outLength(edl_b_").append(n).append(" == null ? EdlCodec.NULL_LEN : edl_b_").append(n)
                            .append(".length);\n");
                }
                if (p.attrs().out()) {
                    b.append("        edl_out.add(edl_b_").append(n).append(" == null ? 0 : edl_b_").append(n).append(".length);\n");
                }
            }
        }
        b.append("        byte[] edl_result = transport.call(").append(index).append(", edl_w.toArray(), edl_out.size());\n")
                .append("        if (edl_result.length != edl_out.size()) {\n")
                .append("            throw new IllegalStateException(\"").append(f.name())
                .append(" answered \" + edl_result.length + \" bytes, expected \" + edl_out.size());\n        }\n")
                .append("        EdlCodec.Reader edl_r = new EdlCodec.Reader(edl_result);\n");
        if (f.returnsValue()) {
            b.append("        ").append(returnType(f)).append(" edl_ret = edl_r.").append(scalar(f.returns()).codec()).append("();\n");
        }
        for (Param p : f.params()) {
            if (!p.isMarshalledBuffer() || !p.attrs().out()) {
                continue;
            }
            String n = p.name();
            b.append("        byte[] edl_o_").append(n).append(" = edl_r.bytes(edl_b_").append(n).append(" == null ? EdlCodec.NULL_LEN : edl_b_")
                    .append(n).append(".length);\n");
            if (p.attrs().string()) {
                b.append("        if (edl_o_").append(n).append(" != null) {\n            edl_o_").append(n).append("[edl_o_").append(n)
                        .append(".length - 1] = 0;\n            ").append(n).append(".setLength(0);\n            ")
                        .append(n).append(".append(EdlCodec.fromCString(edl_o_").append(n).append("));\n        }\n");
            } else if (p.attrs().wstring()) {
                b.append("        if (edl_o_").append(n).append(" != null) {\n            java.util.Arrays.fill(edl_o_").append(n)
                        .append(", edl_o_").append(n).append(".length - 4, edl_o_").append(n).append(".length, (byte) 0);\n            ")
                        .append(n).append(".setLength(0);\n            ").append(n)
                        .append(".append(EdlCodec.fromWString(edl_o_").append(n).append("));\n        }\n");
            } else {
                b.append("        if (edl_o_").append(n).append(" != null) {\n            EdlCodec.fill(").append(n)
                        .append(", edl_o_").append(n).append(");\n        }\n");
            }
        }
        if (f.returnsValue()) {
            b.append("        return edl_ret;\n");
        }
        b.append("    }\n\n");
    }

    private void ocallBridge(StringBuilder b, EdlFunction f) {
        b.append("    private static byte[] ocall_").append(f.name()).append("(").append(edl.name())
                .append("Ocalls edl_ocalls, byte[] edl_in, int edl_cap) {\n")
                .append("        EdlCodec.Reader edl_r = new EdlCodec.Reader(edl_in);\n");
        for (Param p : f.params()) {
            String n = p.name();
            String jt = javaType(p, p.pos());
            if (!p.isBuffer()) {
                b.append("        ").append(jt).append(" ").append(n).append(" = edl_r.").append(scalar(p.type()).codec())
                        .append("();\n");
            } else if (p.attrs().userCheck()) {
                b.append("        long ").append(n).append(" = edl_r.i64();\n");
            } else {
                b.append("        long edl_n_").append(n).append(" = edl_r.length();\n");
                b.append("        byte[] edl_b_").append(n).append(" = ").append(p.attrs().in() ? "edl_r.bytes(edl_n_" + n + ")"
                        : "edl_n_" + n + " == EdlCodec.NULL_LEN ? null : new byte[EdlCodec.elements(edl_n_" + n + ", 1)]")
                        .append(";\n");
                if (p.attrs().isStringLike()) {
                    String decode = "EdlCodec." + (p.attrs().string() ? "fromCString" : "fromWString") + "(edl_b_" + n + ")";
                    b.append("        ").append(jt).append(" ").append(n).append(" = edl_b_").append(n).append(" == null ? null : ")
                            .append(p.attrs().out() ? "new StringBuilder(" + decode + ")" : decode).append(";\n");
                } else if (element(p) == null) {
                    b.append("        byte[] ").append(n).append(" = edl_b_").append(n).append(";\n");
                } else {
                    Kind k = element(p);
                    b.append("        ").append(jt).append(" ").append(n).append(" = null;\n")
                            .append("        if (edl_b_").append(n).append(" != null) {\n            ").append(n).append(" = new ")
                            .append(k.java()).append("[EdlCodec.elements(edl_b_").append(n).append(".length, ").append(k.size())
                            .append(")];\n            EdlCodec.fill(").append(n).append(", edl_b_").append(n)
                            .append(");\n        }\n");
                }
            }
        }
        b.append("        edl_r.end();\n        EdlCodec.Writer edl_w = new EdlCodec.Writer();\n        ");
        if (f.returnsValue()) {
            b.append("edl_w.").append(scalar(f.returns()).codec()).append("(");
        }
        b.append("edl_ocalls.").append(f.name()).append("(")
                .append(String.join(", ", f.params().stream().map(Param::name).toList())).append(")");
        b.append(f.returnsValue() ? ");\n" : ";\n");
        for (Param p : f.params()) {
            if (!p.isMarshalledBuffer() || !p.attrs().out()) {
                continue;
            }
            String n = p.name();
            b.append("        if (edl_b_").append(n).append(" != null) {\n            byte[] edl_o = ");
            if (p.attrs().isStringLike()) {
                // The length was fixed by the caller's string: answer exactly that many bytes.
                b.append("java.util.Arrays.copyOf(EdlCodec.").append(p.attrs().string() ? "cString" : "wString")
                        .append("(").append(n).append("), edl_b_").append(n).append(".length);\n");
            } else {
                b.append(bytesOf(p)).append(";\n");
            }
            b.append("            if (edl_o.length != edl_b_").append(n).append(".length) {\n")
                    .append("                throw new IllegalStateException(\"").append(f.name()).append(": ").append(n)
                    .append(" changed its length\");\n            }\n            edl_w.raw(edl_o);\n        } else {\n")
                    .append("            edl_w.raw(new byte[0]);\n        }\n");
        }
        if (f.propagateErrno()) {
            b.append("        edl_w.i32(0); // Java has no errno: the enclave sees 0\n");
        }
        b.append("        byte[] edl_answer = edl_w.toArray();\n        if (edl_answer.length > edl_cap) {\n")
                .append("            throw new IllegalArgumentException(\"").append(f.name())
                .append(": the enclave offered \" + edl_cap + \" bytes for a \" + edl_answer.length + \"-byte answer\");\n        }\n")
                .append("        return edl_answer;\n    }\n\n");
    }
}
