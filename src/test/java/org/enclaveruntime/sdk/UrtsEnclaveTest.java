package org.enclaveruntime.sdk;

import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.testing.RequiresKvm;
import org.enclaveruntime.vmm.Enclave;
import org.enclaveruntime.vmm.EnclaveExit;
import org.enclaveruntime.vmm.ReadyResult;
import org.enclaveruntime.vmm.TestGuests;
import org.enclaveruntime.vmm.VmBuilder;
import org.enclaveruntime.vmm.VmSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A C application linked to libde_urts (src/sdk/test/urts_app.c) against the real enclave runtime on KVM: the
 * test module signed here, its ECALLs 0 (empty), 1 (echo) and 7 (an OCALL answered by the application's table),
 * from one thread and from four at once (docs/module-runtime.md section 6).
 */
@RequiresKvm
class UrtsEnclaveTest {
    private static final long RAM = 256L << 20;

    @TempDir
    Path dir;
    private Enclave enclave;

    private String console() {
        try {
            return Files.readString(dir.resolve("console.log"));
        } catch (IOException e) {
            return "(none: " + e + ")";
        }
    }

    @AfterEach
    void stop() {
        if (enclave != null) {
            EnclaveExit how = enclave.shutdown(Duration.ofSeconds(10));
            enclave.close();
            assertEquals(new EnclaveExit.Stopped(false), how, "the enclave shut down cleanly; console: " + console());
        }
    }

    @Test
    void aCApplicationLoadsTheTestModuleAndCallsIt() throws Exception {
        UrtsProtocolTest.buildTestPrograms();
        byte[] elf = TestGuests.built("runtime.elf");
        assertNotNull(elf, "target/guest/runtime.elf is not built (mvn generate-resources builds it)");
        Path socket = dir.resolve("v.sock");
        enclave = VmBuilder.boot(new VmSpec(2, RAM, elf, false, dir.resolve("console.log"), 3, List.of(),
                MemoryBacking.ORDINARY).withVsock(socket));
        ReadyResult r = enclave.awaitReady(Duration.ofSeconds(60));
        assertInstanceOf(ReadyResult.Ready.class, r, () -> r + "; console: " + console());

        byte[] unsigned = SignedTestModule.bytes(SignedTestModule.built("test-module.so"));
        Path module = new SignedTestModule().signTo(unsigned, SignedTestModule.PRODUCTION,
                dir.resolve("test-module.signed.so"));
        UrtsProtocolTest.Run run = UrtsProtocolTest.runProgram("urts-app", List.of(module.toString()),
                Map.of("ENCLAVE_SOCKET", socket.toString(), "DE_URTS_STALL_TIMEOUT_MS", "10000"));
        assertEquals(0, run.exit(), () -> run.output() + "\nconsole: " + console());
        assertTrue(run.output().contains("urts-app: all calls as expected"), run.output());
    }
}
