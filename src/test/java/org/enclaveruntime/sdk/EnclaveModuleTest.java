package org.enclaveruntime.sdk;

import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.module.ModuleSignature;
import org.enclaveruntime.image.Sha384;
import org.enclaveruntime.state.ChildJvm;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java SDK against the real enclave runtime on KVM: the demo runtime with vsock (as VsockEndToEndTest boots
 * it), production mode, and the test module (src/guest/modules/test-module.c) signed here. Its ECALLs are the
 * contract in docs/module-runtime.md section 6, "The test module's ECALLs".
 */
@RequiresKvm
class EnclaveModuleTest {
    static final int EMPTY = 0, ECHO = 1, SUM = 2, FILL = 3, TRANSFORM = 4, STRING = 5, ADDRESSES = 6, OCALL = 7,
            FAULT = 8, SPIN = 9, LIAR = 10;
    private static final long RAM = 256L << 20;
    private static final Duration READY = Duration.ofSeconds(60);
    private static final Duration BOUND = Duration.ofMinutes(5);
    /** The enclave checks every module itself: the host's early check is off to reach it. */
    private static final EnclaveModule.Options UNCHECKED = EnclaveModule.Options.DEFAULT.withCheckLocally(false);

    @TempDir
    Path dir;
    private Enclave enclave;
    private Path socket;
    private final SignedTestModule signer = new SignedTestModule();
    private final byte[] unsigned = SignedTestModule.bytes(SignedTestModule.built("test-module.so"));

    private void boot(boolean debug) {
        byte[] elf = TestGuests.built("runtime.elf");
        assertNotNull(elf, "target/guest/runtime.elf is not built (mvn generate-resources builds it)");
        socket = dir.resolve("v.sock");
        VmSpec spec = new VmSpec(2, RAM, elf, debug, dir.resolve("console.log"), 3, List.of(),
                MemoryBacking.ORDINARY).withVsock(socket);
        enclave = VmBuilder.boot(spec);
        ReadyResult r = enclave.awaitReady(READY);
        assertInstanceOf(ReadyResult.Ready.class, r, () -> r + "; console: " + console());
    }

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

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private Path good() throws IOException {
        return write("good.signed.so", signer.sign(unsigned, SignedTestModule.PRODUCTION));
    }

    private static byte[] u64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static EnclaveCallException fails(EnclaveStatus status, Runnable r) {
        EnclaveCallException e = assertThrows(EnclaveCallException.class, r::run);
        assertEquals(status.code(), e.code(), () -> "status of " + e);
        return e;
    }

    /** The enclave is still RUNNING and serving: no exit, and a good module loads and echoes. */
    private void assertServing() throws IOException {
        assertNull(enclave.exitIfEnded(), () -> "the enclave ended; console: " + console());
        try (EnclaveModule m = EnclaveModule.load(good(), socket)) {
            assertArrayEquals(new byte[]{1, 2, 3}, m.call(ECHO, new byte[]{1, 2, 3}, 3));
        }
    }

    @Test
    void everyBufferDirection() throws Exception {
        boot(false);
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = EnclaveModule.load(good(), socket)) {
                assertEquals(8, m.loaded().tcsNum(), "TCSNum as signed: " + m.loaded());
                assertEquals(SignedTestModule.measure(unsigned), m.loaded().mrenclave(), "MRENCLAVE as the enclave computed it");
                assertEquals(Sha384.digest(signer.key().publicKey().getEncoded()), m.loaded().mrsigner());
                assertEquals(0, m.call(EMPTY, new byte[0], 0).length, "no buffers");
                Random r = new Random(3);
                for (int size : new int[]{0, 1, 4096, 65537, 1 << 20}) {
                    byte[] data = new byte[size];
                    r.nextBytes(data);
                    assertArrayEquals(data, m.call(ECHO, data, size), "in and out, " + size + " bytes");
                }
                fails(EnclaveStatus.INVALID_PARAMETER, () -> m.call(ECHO, new byte[10], 9));
                byte[] filled = m.call(FILL, new byte[0], 300);
                assertEquals(300, filled.length, "out only");
                for (int i = 0; i < 300; i++) {
                    assertEquals((byte) (i * 7 + (i >> 12)), filled[i], "out byte " + i);
                }
                byte[] t = m.call(TRANSFORM, new byte[]{1, 2, 3}, 3);
                assertArrayEquals(new byte[]{~3, ~2, ~1}, t, "in/out: reversed and inverted");
                assertArrayEquals("HELLO, ENCLAVE\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                        m.call(STRING, "Hello, enclave\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 64),
                        "string in and out");
                fails(EnclaveStatus.INVALID_PARAMETER, () -> m.call(STRING, new byte[]{'a', 'b'}, 64));
                ByteBuffer where = ByteBuffer.wrap(m.call(ADDRESSES, new byte[16], 24)).order(ByteOrder.LITTLE_ENDIAN);
                long base = m.loaded().base();
                for (String what : new String[]{"in", "out", "stack"}) {
                    long a = where.getLong();
                    assertTrue(a >= base && a < base + (64L << 20), what + " at 0x" + Long.toHexString(a)
                            + " lies in the module's range from 0x" + Long.toHexString(base));
                }
                fails(EnclaveStatus.UNEXPECTED, () -> m.call(LIAR, new byte[0], 16));
                byte[] in = new byte[5000];
                r.nextBytes(in);
                long sum = 0;
                for (byte b : in) {
                    sum += b & 0xff;
                }
                assertArrayEquals(u64(sum), m.call(SUM, in, 8), "in only (a sum out)");
                ByteBuffer din = ByteBuffer.allocateDirect(4096).put(in, 0, 4096).flip();
                ByteBuffer dout = ByteBuffer.allocateDirect(4096);
                assertEquals(4096, m.call(ECHO, din, dout), "direct buffers");
                assertEquals(ByteBuffer.wrap(in, 0, 4096), dout.flip());
                fails(EnclaveStatus.INVALID_FUNCTION, () -> m.call(4095, new byte[0], 0));
            }
        });
    }

    @Test
    void ocallRoundTripAndNestedEcallRefusedOnBothSides() throws Exception {
        boot(false);
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = EnclaveModule.load(good(), socket)) {
                AtomicReference<EnclaveCallException> nested = new AtomicReference<>();
                m.onOcall(0, (in, cap) -> {
                    nested.set(assertThrows(EnclaveCallException.class, () -> m.call(EMPTY, new byte[0], 0)));
                    byte[] out = in.clone();
                    for (int i = 0; i < out.length; i++) {
                        out[i] ^= 0x5a;
                    }
                    return out;
                });
                byte[] in = "to the host and back".getBytes();
                byte[] expected = in.clone();
                for (int i = 0; i < expected.length; i++) {
                    expected[i] ^= 0x5a;
                }
                assertArrayEquals(expected, m.call(OCALL, in, 64));
                assertEquals(EnclaveStatus.ECALL_NOT_ALLOWED.code(), nested.get().code(), nested.get().toString());
                m.onOcall(0, (i, cap) -> {
                    throw new EnclaveCallException(EnclaveStatus.OUT_OF_MEMORY, "the host has no room");
                });
                fails(EnclaveStatus.OUT_OF_MEMORY, () -> m.call(OCALL, in, 64));

                // The enclave refuses a nested ECALL too: sent by hand on a raw connection during the OCALL.
                try (FrameChannel raw = FrameChannel.connect(socket, EnclaveModule.PORT, Duration.ofSeconds(10))) {
                    raw.send(MessageType.ATTACH, m.loaded().moduleId());
                    FrameHeader attached = raw.receive(Duration.ofSeconds(10), "ATTACHED");
                    assertEquals(MessageType.ATTACHED, attached.type());
                    assertEquals(0, attached.arg());
                    ByteBuffer cap = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 16);
                    raw.send(MessageType.ECALL, OCALL, cap, ByteBuffer.wrap(new byte[]{7}));
                    FrameHeader ocall = raw.receive(Duration.ofSeconds(10), "OCALL");
                    assertEquals(MessageType.OCALL, ocall.type());
                    raw.readPayload(ocall.length(), "OCALL");
                    raw.send(MessageType.ECALL, EMPTY, cap.duplicate().rewind());
                    FrameHeader refused = raw.receive(Duration.ofSeconds(10), "ECALL_RETURN of the nested ECALL");
                    assertEquals(MessageType.ECALL_RETURN, refused.type());
                    assertEquals(EnclaveStatus.ECALL_NOT_ALLOWED.code(), refused.arg());
                    raw.readPayload(refused.length(), "ECALL_RETURN");
                    raw.send(MessageType.OCALL_RETURN, 0, ByteBuffer.wrap(new byte[]{8}));
                    FrameHeader done = raw.receive(Duration.ofSeconds(10), "ECALL_RETURN");
                    assertEquals(MessageType.ECALL_RETURN, done.type());
                    assertEquals(0, done.arg());
                    assertArrayEquals(new byte[]{8}, raw.readPayload(done.length(), "ECALL_RETURN"));
                }
            }
            assertServing();
        });
    }

    @Test
    void refusedModulesLeaveTheEnclaveRunningAndServing() throws Exception {
        boot(false);
        byte[] signed = signer.sign(unsigned, SignedTestModule.PRODUCTION);
        ModuleSignature structure = ModuleSignature.decode(signed, signed.length, "m").orElseThrow();
        Map<String, Map.Entry<byte[], EnclaveStatus>> bad = new LinkedHashMap<>();

        byte[] badSignature = signed.clone();
        badSignature[signed.length - 16 - 1] ^= 0x01; // the last byte of the signature field
        bad.put("bad signature", Map.entry(badSignature, EnclaveStatus.INVALID_SIGNATURE));

        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp384r1"));
        byte[] otherKey = g.generateKeyPair().getPublic().getEncoded();
        ModuleSignature swapped = new ModuleSignature(structure.moduleSize(), structure.keyType(), structure.config(),
                structure.mrenclave(), Sha384.digest(otherKey), otherKey, structure.signature());
        bad.put("signature checked against another key",
                Map.entry(SignedTestModule.concat(unsigned, swapped.encode()), EnclaveStatus.INVALID_SIGNATURE));

        byte[] flipped = signed.clone();
        flipped[SignedTestModule.firstCodeByte(unsigned)] ^= 0x01;
        bad.put("one flipped code byte", Map.entry(flipped, EnclaveStatus.INVALID_SIGNATURE));

        bad.put("missing import", Map.entry(signer.sign(SignedTestModule.withMissingImport(unsigned),
                SignedTestModule.PRODUCTION), EnclaveStatus.UNDEFINED_SYMBOL));
        bad.put("unsupported relocation", Map.entry(signer.signUnchecked(
                SignedTestModule.withUnsupportedRelocation(unsigned), SignedTestModule.PRODUCTION),
                EnclaveStatus.INVALID_ENCLAVE));
        bad.put("debug module in a production enclave", Map.entry(signer.sign(unsigned, SignedTestModule.DEBUG),
                EnclaveStatus.NDEBUG_ENCLAVE));
        bad.put("unsigned", Map.entry(unsigned, EnclaveStatus.INVALID_SIGNATURE));

        assertTimeoutPreemptively(BOUND, () -> {
            List<String> wrong = new ArrayList<>();
            int i = 0;
            for (var e : bad.entrySet()) {
                Path file = write("bad-" + i++ + ".signed.so", e.getValue().getKey());
                EnclaveCallException refused = assertThrows(EnclaveCallException.class,
                        () -> EnclaveModule.load(file, socket, UNCHECKED), e.getKey());
                if (refused.code() != e.getValue().getValue().code()) {
                    wrong.add(e.getKey() + ": expected " + e.getValue().getValue() + ", got " + refused);
                }
                assertServing();
            }
            assertEquals(List.of(), wrong, "statuses of refused modules");
        });
    }

    @Test
    void eightThreadsCallAtOnce() throws Exception {
        boot(false);
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = EnclaveModule.load(good(), socket)) {
                m.onOcall(0, (in, cap) -> in);
                ExecutorService pool = Executors.newFixedThreadPool(8);
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int seed = t;
                    done.add(pool.submit(() -> {
                        start.await();
                        Random r = new Random(seed);
                        for (int i = 0; i < 100; i++) {
                            byte[] data = new byte[1 + r.nextInt(8192)];
                            r.nextBytes(data);
                            assertArrayEquals(data, m.call(i % 3 == 0 ? OCALL : ECHO, data, data.length),
                                    "thread " + seed + " call " + i);
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : done) {
                    f.get(4, TimeUnit.MINUTES);
                }
                pool.shutdown();
            }
            assertServing();
        });
    }

    @Test
    void unloadAndLoadAgain() throws Exception {
        boot(false);
        Path module = good();
        assertTimeoutPreemptively(BOUND, () -> {
            for (int round = 0; round < 20; round++) {
                EnclaveModule m = EnclaveModule.load(module, socket);
                byte[] data = ("round " + round).getBytes();
                assertArrayEquals(data, m.call(ECHO, data, data.length));
                m.close();
                fails(EnclaveStatus.INVALID_ENCLAVE_ID, () -> m.call(EMPTY, new byte[0], 0));
            }
            assertServing();
        });
    }

    @Test
    void anApplicationKilledMidCallLeavesTheEnclaveServing() throws Exception {
        boot(false);
        Path module = good();
        assertTimeoutPreemptively(BOUND, () -> {
            try (ChildJvm app = new ChildJvm(ModuleCallerMain.class, socket.toString(), module.toString())) {
                assertEquals("CALLING", app.firstLine(120));
                Thread.sleep(500); // well inside a busy ECALL
                app.kill();
            }
            assertServing();
            // A module of this process, loaded while the dead one may still be unloading, runs in parallel.
            try (EnclaveModule m = EnclaveModule.load(module, socket)) {
                for (int i = 0; i < 100; i++) {
                    byte[] data = Arrays.copyOf(new byte[]{(byte) i}, 1 + i);
                    assertArrayEquals(data, m.call(ECHO, data, data.length));
                }
            }
        });
    }

    @Test
    void aFaultInModuleCodeCrashesTheEnclaveAndNamesTheModule() throws Exception {
        boot(false);
        Path module = good();
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = EnclaveModule.load(module, socket)) {
                assertEquals(0, m.call(EMPTY, new byte[0], 0).length);
                java.util.concurrent.CompletableFuture<EnclaveCallException> faulting =
                        java.util.concurrent.CompletableFuture.supplyAsync(() -> assertThrows(
                                EnclaveCallException.class, () -> m.call(FAULT, new byte[0], 0)));
                EnclaveExit exit = enclave.awaitExit();
                EnclaveExit.Crashed crash = assertInstanceOf(EnclaveExit.Crashed.class, exit);
                assertTrue(crash.reason().contains("#PF") && crash.reason().contains("in module 1 ("),
                        "the report names the fault and the module: " + crash.reason());
                // The VMM tears the crashed enclave down (as the service does), which ends its connections.
                enclave.close();
                enclave = null;
                EnclaveCallException e = faulting.get();
                assertEquals(EnclaveStatus.ENCLAVE_CRASHED.code(), e.code(), e.toString());
                fails(EnclaveStatus.ENCLAVE_LOST, () -> m.call(EMPTY, new byte[0], 0));
            }
        });
    }
}
