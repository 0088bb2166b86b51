package org.enclaveruntime.sdk;

import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.module.EnclaveConfig;
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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The trusted library in the real enclave on KVM: trts-module (src/guest/modules/trts-module.c, built with
 * libde_trts and SSE) through the Java SDK. Its ECALLs are docs/module-runtime.md section 6, "The trusted
 * library's test module". sqrtsd, pow and snprintf's %g run on a vCPU whose CR4 has OSFXSR (docs/guest-abi.md).
 */
@RequiresKvm
class TrtsModuleTest {
    static final int MALLOC = 0, FORMAT = 1, DISTANCE = 2, SHA256 = 3, RANGE = 4, RAND = 5, HOLD = 6, RELEASE = 7;
    private static final EnclaveConfig CONFIG = new EnclaveConfig(1, 1, 0x40000, 0x400000, 4, false);

    @TempDir
    Path dir;
    private Enclave enclave;

    @AfterEach
    void stop() {
        if (enclave != null) {
            EnclaveExit how = enclave.shutdown(Duration.ofSeconds(10));
            enclave.close();
            assertEquals(new EnclaveExit.Stopped(false), how, "the enclave shut down cleanly");
        }
    }

    private static byte[] doubles(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }

    private static int u32(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    @Test
    void everyPartOfTheLibraryInsideTheEnclave() throws Exception {
        byte[] elf = TestGuests.built("runtime.elf");
        assertNotNull(elf, "target/guest/runtime.elf is not built");
        Path socket = dir.resolve("v.sock");
        enclave = VmBuilder.boot(new VmSpec(2, 256L << 20, elf, false, null, 3, List.of(), MemoryBacking.ORDINARY)
                .withVsock(socket));
        assertInstanceOf(ReadyResult.Ready.class, enclave.awaitReady(Duration.ofSeconds(60)));
        byte[] unsigned = SignedTestModule.bytes(SignedTestModule.built("trts-module.so"));
        Path module = dir.resolve("trts.signed.so");
        Files.write(module, new SignedTestModule().sign(unsigned, CONFIG));
        assertTimeoutPreemptively(Duration.ofMinutes(5), () -> {
            try (EnclaveModule m = EnclaveModule.load(module, socket)) {
                assertEquals(0, u32(m.call(MALLOC, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(30)
                        .array(), 4)), "malloc: no block lost its bytes");
                // C's "%g|%.2f|%.3e|%d|%s|%x" of sqrt(20), pow(20, 0.5), exp(0.5), floor(20), "trts", 0xbeef
                assertEquals("4.47214|4.47|1.649e+00|20|trts|beef\0", new String(m.call(FORMAT, doubles(20.0, 0.5), 128),
                        StandardCharsets.US_ASCII), "snprintf of sqrt, pow, exp, floor");
                double d = ByteBuffer.wrap(m.call(DISTANCE, doubles(3, 4, 1, 8), 8)).order(ByteOrder.LITTLE_ENDIAN)
                        .getDouble();
                assertEquals(Math.sqrt(20.0), d, 0.0, "SampleMath's A(3,4) -> B(1,8)");
                byte[] data = "the enclave hashes this".getBytes(StandardCharsets.US_ASCII);
                assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data), m.call(SHA256, data, 32));
                assertEquals(31, u32(m.call(RANGE, new byte[16], 4)), "in, stack, heap within; 0x1000 outside");
                byte[] r1 = m.call(RAND, new byte[0], 64), r2 = m.call(RAND, new byte[0], 64);
                assertFalse(Arrays.equals(r1, r2), "two draws of RDRAND differ");
                byte[] three = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(3 << 20).array();
                m.call(HOLD, three, 0);
                EnclaveCallException e = assertThrows(EnclaveCallException.class, () -> m.call(RAND, new byte[0], 2 << 20));
                assertEquals(EnclaveStatus.OUT_OF_MEMORY.code(), e.code(), "malloc's 3 MiB leave no room: " + e);
                m.call(RELEASE, new byte[0], 0);
                assertEquals(2 << 20, m.call(RAND, new byte[0], 2 << 20).length, "room again after free");
            }
        });
    }
}
