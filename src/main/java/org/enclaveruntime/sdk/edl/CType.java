package org.enclaveruntime.sdk.edl;

import java.util.Set;

/**
 * A C type as EDL writes it: a base (a C basic type in canonical spelling, `struct x`, `enum x`, `union x`, or
 * a name from an included header or an EDL definition), `const` on the base, and the number of `*`.
 */
public record CType(String base, boolean constBase, int pointers) {
    private static final Set<String> INTEGERS = Set.of("char", "signed char", "unsigned char", "short",
            "unsigned short", "int", "unsigned int", "long", "unsigned long", "long long", "unsigned long long",
            "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "size_t",
            "wchar_t");

    public boolean isVoid() {
        return base.equals("void") && pointers == 0;
    }

    public boolean isPointer() {
        return pointers > 0;
    }

    public boolean isInteger() {
        return pointers == 0 && INTEGERS.contains(base);
    }

    /** The type one `*` less: what the pointer points to. */
    public CType pointee() {
        return new CType(base, constBase, pointers - 1);
    }

    /** The type without the const on its base, for the buffers the bridges own. */
    public CType mutable() {
        return new CType(base, false, pointers);
    }

    /** C spelling, e.g. `const char *`. */
    public String c() {
        return (constBase ? "const " : "") + base + (pointers > 0 ? " " + "*".repeat(pointers) : "");
    }

    /** A declaration of {@code name} with this type: `const char *s`, `int x`. */
    public String declare(String name) {
        return (constBase ? "const " : "") + base + " " + "*".repeat(pointers) + name;
    }
}
