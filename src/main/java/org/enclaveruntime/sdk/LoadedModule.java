package org.enclaveruntime.sdk;

import org.enclaveruntime.image.Sha384;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the enclave's loader reports for a module it took (the LOADED payload, docs/module-runtime.md section 3):
 * the identity the enclave itself computed and checked, not what the host read from the file.
 *
 * @param moduleId   the enclave's id of the module, what call connections attach to
 * @param tcsNum     calls that may run in the module at once (TCSNum, unsigned 32-bit)
 * @param attributes bit 0 DEBUG
 * @param base       where the module is mapped in the enclave (crash reports give offsets from it)
 */
public record LoadedModule(int moduleId, long tcsNum, Sha384 mrenclave, Sha384 mrsigner, int prodId, int isvSvn,
                           int attributes, long base) {
    /** The payload's size: u32, u32, 48, 48, u16, u16, u32, u64. */
    static final int SIZE = 4 + 4 + Sha384.LENGTH + Sha384.LENGTH + 2 + 2 + 4 + 8;

    public boolean debug() {
        return (attributes & 1) != 0;
    }

    static LoadedModule decode(byte[] payload) throws WireException {
        if (payload.length != SIZE) {
            throw WireException.protocol("a LOADED payload of " + payload.length + " bytes, not " + SIZE);
        }
        ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        int id = b.getInt();
        long tcs = Integer.toUnsignedLong(b.getInt());
        byte[] mrenclave = new byte[Sha384.LENGTH];
        byte[] mrsigner = new byte[Sha384.LENGTH];
        b.get(mrenclave).get(mrsigner);
        int prodId = Short.toUnsignedInt(b.getShort());
        int isvSvn = Short.toUnsignedInt(b.getShort());
        int attributes = b.getInt();
        long base = b.getLong();
        if (tcs == 0) {
            throw WireException.protocol("a LOADED payload with tcs_num 0");
        }
        return new LoadedModule(id, tcs, Sha384.of(mrenclave), Sha384.of(mrsigner), prodId, isvSvn, attributes, base);
    }
}
