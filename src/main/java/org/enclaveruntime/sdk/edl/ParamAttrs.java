package org.enclaveruntime.sdk.edl;

/**
 * A parameter's attributes. {@code size} and {@code count} are null when absent; otherwise a decimal literal
 * or the name of another parameter of the same function.
 */
public record ParamAttrs(boolean in, boolean out, boolean string, boolean wstring, String size, String count,
                         boolean userCheck, boolean isptr, boolean readonly) {
    public static final ParamAttrs NONE = new ParamAttrs(false, false, false, false, null, null, false, false, false);

    public boolean hasDirection() {
        return in || out;
    }

    public boolean isStringLike() {
        return string || wstring;
    }
}
