package org.enclaveruntime.sdk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * An application in a JVM of its own, for EnclaveModuleTest to kill in the middle of a call: loads the module at
 * args[1] into the enclave at socket args[0], prints "CALLING", then calls the test module's spin ECALL (9)
 * until it is killed.
 */
public final class ModuleCallerMain {
    private ModuleCallerMain() {
    }

    public static void main(String[] args) {
        EnclaveModule m = EnclaveModule.load(Path.of(args[1]), Path.of(args[0]),
                EnclaveModule.Options.DEFAULT.withCheckLocally(false));
        byte[] iterations = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(5_000_000).array();
        System.out.println("CALLING");
        System.out.flush();
        while (true) {
            m.call(EnclaveModuleTest.SPIN, iterations, 0);
        }
    }
}
