package org.enclaveruntime.samples;

import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.testing.RequiresKvm;
import org.enclaveruntime.vmm.Enclave;
import org.enclaveruntime.vmm.EnclaveExit;
import org.enclaveruntime.vmm.ReadyResult;
import org.enclaveruntime.vmm.TestGuests;
import org.enclaveruntime.vmm.VmBuilder;
import org.enclaveruntime.vmm.VmSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SampleMath against the real enclave runtime on KVM, as docs/sdk.md "SampleMath" shows it: the demo runtime
 * with vsock (production mode), the sample built with CMake from a clean directory, `./app` next to
 * enclave.signed.so printing exactly the three lines, a damaged module refused with the status name while the
 * enclave keeps serving, and SampleMathJava printing the same lines.
 */
@RequiresKvm
class SampleMathKvmTest {
    /** The exact output: distances computed in the enclave, printed as iostreams print by default. */
    static final String EXPECTED = """
            A(3,4) -> B(1,8) -> 4.47214
            A(6,9) -> B(6,2) -> 7
            A(3,3) -> B(7,5) -> 4.47214
            """;
    private static final Duration READY = Duration.ofSeconds(60);

    @TempDir
    static Path shared;
    private static Path build;
    @TempDir
    Path dir;
    private Enclave enclave;
    private Path socket;

    /** Built at the first test that runs (not in @BeforeAll: KVM tests are skipped per method, after it). */
    private static synchronized void buildOnce() {
        if (build != null) {
            return;
        }
        String missing = SampleBuild.missingTool();
        assertNull(missing, () -> "the sample cannot be built: " + missing);
        Path b = shared.resolve("build");
        SampleBuild.Run r = SampleBuild.cmake(SampleBuild.SAMPLES, b, SampleBuild.enclavectlScript(shared));
        assertEquals(0, r.exit(), r::toString);
        build = b;
    }

    @BeforeEach
    void boot() {
        buildOnce();
        byte[] elf = TestGuests.built("runtime.elf");
        assertNotNull(elf, "target/guest/runtime.elf is not built (mvn generate-resources builds it)");
        socket = dir.resolve("v.sock");
        VmSpec spec = new VmSpec(2, 256L << 20, elf, false, dir.resolve("console.log"), 3, List.of(),
                MemoryBacking.ORDINARY).withVsock(socket);
        enclave = VmBuilder.boot(spec);
        ReadyResult ready = enclave.awaitReady(READY);
        assertInstanceOf(ReadyResult.Ready.class, ready, () -> ready + "; console: " + console());
    }

    @AfterEach
    void stop() {
        if (enclave != null) {
            EnclaveExit how = enclave.shutdown(Duration.ofSeconds(10));
            enclave.close();
            assertEquals(new EnclaveExit.Stopped(false), how, "the enclave shut down cleanly; console: " + console());
        }
    }

    private String console() {
        try {
            return Files.readString(dir.resolve("console.log"));
        } catch (IOException e) {
            return "(none: " + e + ")";
        }
    }

    /** The app, run from its own directory as `./app [ENCLAVE]`, finding the enclave through ENCLAVE_SOCKET. */
    private SampleBuild.Run app(String... args) {
        Path appDir = build.resolve("SampleMath/App");
        List<String> command = new ArrayList<>(List.of("./app"));
        command.addAll(List.of(args));
        return SampleBuild.run(command, appDir, Map.of("ENCLAVE_SOCKET", socket.toString()), 120);
    }

    @Test
    void appPrintsTheDistancesTheEnclaveComputes() {
        SampleBuild.Run r = app();
        assertEquals(0, r.exit(), () -> r + "\nconsole: " + console());
        assertEquals(EXPECTED, r.out(), r::toString);
    }

    @Test
    void damagedModuleIsRefusedWithItsStatusNameAndTheEnclaveKeepsServing() throws IOException {
        Path damaged = dir.resolve("damaged/enclave.signed.so");
        Files.createDirectories(damaged.getParent());
        Files.copy(build.resolve("SampleMath/Enclave/enclave.signed.so"), damaged, StandardCopyOption.REPLACE_EXISTING);
        byte[] bytes = Files.readAllBytes(damaged);
        bytes[bytes.length - 100] ^= 0x40;   // inside the RSA signature (the last 16 bytes are the trailer)
        Files.write(damaged, bytes);

        SampleBuild.Run r = app(damaged.toString());
        assertNotEquals(0, r.exit(), r::toString);
        assertTrue(r.err().contains("SGX_ERROR_INVALID_SIGNATURE"), r::toString);
        assertEquals("", r.out(), "no distance printed: " + r);

        assertNull(enclave.exitIfEnded(), () -> "the enclave ended; console: " + console());
        SampleBuild.Run good = app();
        assertEquals(0, good.exit(), good::toString);
        assertEquals(EXPECTED, good.out(), "the enclave still serves: " + good);
    }

    @Test
    void javaTwinPrintsTheSameLines() throws IOException {
        Path conf = dir.resolve("enclave.conf");
        Files.writeString(conf, "[vsock]\nsocket = " + socket + "\n");
        SampleBuild.Run r = SampleBuild.run(SampleMathBuildTest.javaTwin(build), build.resolve("SampleMath/App"),
                Map.of("ENCLAVE_CONF", conf.toString()), 120);
        assertEquals(0, r.exit(), () -> r + "\nconsole: " + console());
        assertEquals(EXPECTED, r.out(), r::toString);
    }
}
