package samplemath;

import org.enclaveruntime.sdk.EnclaveModule;
import org.enclaveruntime.sdk.edl.EdlTransport;

/** The generated proxy's transport over a loaded module: EnclaveModule's own call and onOcall. */
record EdlModuleTransport(EnclaveModule module) implements EdlTransport {
    @Override
    public byte[] call(int index, byte[] in, int outCapacity) {
        return module.call(index, in, outCapacity);
    }

    @Override
    public void onOcall(int index, OcallHandler handler) {
        module.onOcall(index, handler::handle);
    }
}
