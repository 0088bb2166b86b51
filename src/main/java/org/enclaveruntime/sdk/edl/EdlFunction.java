package org.enclaveruntime.sdk.edl;

import java.util.List;

/**
 * An ECALL (trusted) or OCALL (untrusted). {@code isPublic} only means something for ECALLs; {@code allow} and
 * {@code propagateErrno} only for OCALLs.
 */
public record EdlFunction(String name, CType returns, List<Param> params, boolean isPublic, List<String> allow,
                          boolean propagateErrno, SourcePos pos) {
    public EdlFunction {
        params = List.copyOf(params);
        allow = List.copyOf(allow);
    }

    public boolean returnsValue() {
        return !returns.isVoid();
    }
}
