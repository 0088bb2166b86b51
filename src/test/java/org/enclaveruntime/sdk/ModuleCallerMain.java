package org.enclaveruntime.sdk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * An application in a JVM of its own, for EnclaveModuleTest to kill in the middle of a call: loads the module at
 * args[1] into the enclave at socket args[0], prints "CALLING", then calls the test module's busy ECALL (3)
 * until it is killed.
 */
public final class ModuleCallerMain {
    private ModuleCallerMain() {
    }

    public static void main(String[] args) {
        EnclaveModule m = EnclaveModule.load(Path.of(args[1]), Path.of(args[0]),
                EnclaveModule.Options.DEFAULT.withCheckLocally(false));
        byte[] iterations = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(200_000_000L).array();
        System.out.println("CALLING");
        System.out.flush();
        while (true) {
            m.call(EnclaveModuleTest.BUSY, iterations, 0);
        }
    }
}
