package org.enclaveruntime.sdk.edl;

import java.util.List;

/** A function parameter; {@code dims} holds the sizes of `[N]` array declarators, outermost first. */
public record Param(CType type, String name, List<Long> dims, ParamAttrs attrs, SourcePos pos) {
    public Param {
        dims = List.copyOf(dims);
    }

    public boolean isArray() {
        return !dims.isEmpty();
    }

    /** Passed as a buffer (pointer, array or [isptr] type) rather than by value. */
    public boolean isBuffer() {
        return type.isPointer() || isArray() || attrs.isptr();
    }

    /** A buffer whose bytes travel (not [user_check]). */
    public boolean isMarshalledBuffer() {
        return isBuffer() && !attrs.userCheck();
    }

    public String declaration() {
        StringBuilder b = new StringBuilder(type.declare(name));
        for (long d : dims) {
            b.append('[').append(d).append(']');
        }
        return b.toString();
    }
}
