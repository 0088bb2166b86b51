package org.enclaveruntime.sdk;

import org.enclaveruntime.sdk.ScriptedEnclave.Frame;
import org.enclaveruntime.sdk.ScriptedEnclave.Peer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.enclaveruntime.sdk.ScriptedEnclave.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * EnclaveModule against {@link ScriptedEnclave}, a real Unix-socket peer playing the enclave: good answers,
 * OCALL round trips, 8 threads, and an enclave that breaks the protocol, stalls or goes away. Each test is
 * bounded: a hang is a failure, never a stuck build.
 */
class EnclaveModuleProtocolTest {
    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final EnclaveModule.Options FAST = EnclaveModule.Options.DEFAULT.withCheckLocally(false)
            .withStallTimeout(Duration.ofMillis(500)).withLoadTimeout(Duration.ofSeconds(2));

    @TempDir
    Path dir;
    private Path moduleFile;
    private ScriptedEnclave enclave;

    /** The test module's contract (0 empty, 1 echo) and a few more: 2 OCALL 5 with in, 3 status 0x2a. */
    static class Good implements ScriptedEnclave.Script {
        @Override
        public void serve(Peer p) throws IOException {
            p.ok();
            Frame first = p.read();
            if (first == null) {
                return;
            }
            if (first.type() == LOAD) {
                p.send(LOADED, 0, loadedPayload());
                Frame f = p.read();
                if (f != null && f.type() == UNLOAD) {
                    p.send(UNLOADED, 0, new byte[0]);
                }
                return;
            }
            assertEquals(ATTACH, first.type(), "a call connection begins with ATTACH");
            assertEquals(MODULE_ID, first.arg(), "ATTACH names the module id from LOADED");
            p.send(ATTACHED, 0, new byte[0]);
            for (Frame f = p.read(); f != null; f = p.read()) {
                assertEquals(ECALL, f.type(), "only ECALLs on a call connection");
                ecall(p, f.arg(), u32(f.payload()), afterU32(f.payload()));
            }
        }

        void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
            switch (index) {
                case 0 -> p.send(ECALL_RETURN, 0, new byte[0]);
                case 1 -> p.send(ECALL_RETURN, in.length <= outCapacity ? 0 : 2,
                        in.length <= outCapacity ? in : new byte[0]);
                case 2 -> {
                    p.send(OCALL, 5, concat(u32le(outCapacity), in));
                    Frame r = p.read();
                    assertEquals(OCALL_RETURN, r.type(), "an OCALL is answered by OCALL_RETURN");
                    p.send(ECALL_RETURN, r.arg(), r.arg() == 0 ? r.payload() : new byte[0]);
                }
                case 3 -> p.send(ECALL_RETURN, 0x2a, new byte[0]);
                default -> p.send(ECALL_RETURN, EnclaveStatus.INVALID_FUNCTION.code(), new byte[0]);
            }
        }
    }

    static byte[] u32le(int v) {
        return ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @BeforeEach
    void setUp() throws IOException {
        moduleFile = dir.resolve("m.signed.so");
        Files.write(moduleFile, "not really a module: the local check is off".getBytes(StandardCharsets.US_ASCII));
        enclave = new ScriptedEnclave(dir.resolve("v.sock"), new Good());
    }

    @AfterEach
    void tearDown() throws IOException {
        enclave.close();
        assertEquals(List.of(), enclave.problems, "what the SDK sent broke the protocol");
    }

    private EnclaveModule load() {
        return EnclaveModule.load(moduleFile, enclave.socket, FAST);
    }

    private static EnclaveCallException fails(EnclaveStatus status, Runnable r) {
        EnclaveCallException e = assertThrows(EnclaveCallException.class, r::run);
        assertEquals(status.code(), e.code(), () -> "status of " + e);
        return e;
    }

    @Test
    void loadsTheFileAsItIsReportsWhatTheEnclaveSaidAndUnloadsOnClose() throws Exception {
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                assertEquals(MODULE_ID, m.loaded().moduleId());
                assertEquals(8, m.loaded().tcsNum());
                assertEquals("01".repeat(48), m.loaded().mrenclave().hex());
                assertEquals("02".repeat(48), m.loaded().mrsigner().hex());
                assertEquals(3, m.loaded().prodId());
                assertEquals(4, m.loaded().isvSvn());
                assertTrue(m.loaded().debug());
                assertEquals(0x40000000L, m.loaded().base());
            }
            Frame load = enclave.received.get(0);
            assertEquals(LOAD, load.type());
            assertArrayEquals(Files.readAllBytes(moduleFile), load.payload(), "LOAD carries the file's bytes");
            waitFor(() -> enclave.received.stream().anyMatch(f -> f.type() == UNLOAD && f.arg() == MODULE_ID));
        });
    }

    @Test
    void aNewCallConnectionAfterTheModuleConnectionEndedIsLostWithoutReachingTheEnclave() throws Exception {
        // An enclave that ends the module connection right after LOADED (it stopped): a later ATTACH could reach
        // a restarted enclave, where the same module id names another application's module.
        enclave.script(p -> {
            p.ok();
            Frame first = p.read();
            if (first != null && first.type() == LOAD) {
                p.send(LOADED, 0, loadedPayload());
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                int before = enclave.connections.get();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                EnclaveCallException e;
                do {
                    e = assertThrows(EnclaveCallException.class, () -> m.call(0, new byte[0], 0));
                } while (e.code() != EnclaveStatus.ENCLAVE_LOST.code() && System.nanoTime() < deadline);
                // Lost either way: seen before ATTACH, or when the ATTACH connection closed and the check after it
                // found the module connection gone too.
                assertEquals(EnclaveStatus.ENCLAVE_LOST.code(), e.code(), e.toString());
                int after = enclave.connections.get();
                fails(EnclaveStatus.ENCLAVE_LOST, () -> m.call(0, new byte[0], 0));
                assertEquals(after, enclave.connections.get(), "once lost, no call connects again (" + before + ")");
            }
        });
    }

    @Test
    void aCallConnectionClosedAtOnceWhileTheModuleLivesIsServiceUnavailable() throws Exception {
        Good good = new Good();
        enclave.script(p -> {
            p.ok();
            Frame first = p.read();
            if (first != null && first.type() == ATTACH) {
                return; // closed at once, as the enclave does beyond its 64 connections
            }
            if (first != null && first.type() == LOAD) {
                p.send(LOADED, 0, loadedPayload());
                Frame f = p.read();
                if (f != null && f.type() == UNLOAD) {
                    p.send(UNLOADED, 0, new byte[0]);
                }
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                fails(EnclaveStatus.SERVICE_UNAVAILABLE, () -> m.call(0, new byte[0], 0));
                enclave.script(good);
                assertEquals(0, m.call(0, new byte[0], 0).length, "the module stays usable");
            }
        });
    }

    @Test
    void theHostCheckRefusesABrokenModuleBeforeConnecting() {
        EnclaveCallException e = fails(EnclaveStatus.INVALID_ENCLAVE,
                () -> EnclaveModule.load(moduleFile, enclave.socket, FAST.withCheckLocally(true)));
        assertTrue(e.getMessage().startsWith("E801: " + moduleFile), e.getMessage());
        assertEquals(0, enclave.connections.get(), "nothing was sent to the enclave");
        fails(EnclaveStatus.ENCLAVE_FILE_ACCESS, () -> EnclaveModule.load(dir.resolve("missing.so"), enclave.socket, FAST));
    }

    @Test
    void aRefusedModuleCarriesTheLoadersStatusAndReason() throws Exception {
        enclave.script(p -> {
            p.ok();
            p.read();
            p.send(LOADED, EnclaveStatus.INVALID_SIGNATURE.code(),
                    "E812: the signature does not verify".getBytes(StandardCharsets.UTF_8));
        });
        assertTimeoutPreemptively(BOUND, () -> {
            EnclaveCallException e = fails(EnclaveStatus.INVALID_SIGNATURE, this::load);
            assertTrue(e.getMessage().contains("E812: the signature does not verify"), e.getMessage());
            assertTrue(e.getMessage().contains(moduleFile.toString()), e.getMessage());
        });
    }

    @Test
    void emptyAndEchoCallsInBothApis() throws Exception {
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                assertEquals(0, m.call(0, new byte[0], 0).length);
                byte[] data = new byte[4096];
                new Random(1).nextBytes(data);
                assertArrayEquals(data, m.call(1, data, 4096));
                ByteBuffer in = ByteBuffer.allocateDirect(4096).put(data).flip();
                ByteBuffer out = ByteBuffer.allocateDirect(8192);
                out.position(100);
                assertEquals(4096, m.call(1, in, out));
                assertEquals(0, in.remaining(), "the in buffer was consumed");
                assertEquals(4196, out.position(), "out's position moved past the out bytes");
                byte[] back = new byte[4096];
                out.get(100, back);
                assertArrayEquals(data, back);
                // The module's own status comes back as it is, and the connection stays usable.
                EnclaveCallException e = assertThrows(EnclaveCallException.class, () -> m.call(3, new byte[0], 0));
                assertEquals(0x2a, e.code());
                assertTrue(e.status().isEmpty());
                fails(EnclaveStatus.INVALID_FUNCTION, () -> m.call(77, new byte[0], 0));
                assertArrayEquals(data, m.call(1, data, 4096));
            }
            assertEquals(2, enclave.connections.get(), "one module connection and one call connection");
        });
    }

    @Test
    void argumentsOutOfRangeAreRefusedOnTheHost() throws Exception {
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                fails(EnclaveStatus.INVALID_PARAMETER, () -> m.call(-1, new byte[0], 0));
                fails(EnclaveStatus.INVALID_PARAMETER, () -> m.call(1, new byte[0], -1));
                fails(EnclaveStatus.INVALID_PARAMETER, () -> m.call(1, new byte[EnclaveModule.MAX_CALL_BYTES + 1], 0));
            }
            assertEquals(1, enclave.connections.get(), "no call connection was opened");
        });
    }

    @Test
    void ocallRoundTripsAndTheirFailures() throws Exception {
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                fails(EnclaveStatus.INVALID_FUNCTION, () -> m.call(2, new byte[]{1}, 16));
                AtomicReference<Thread> ranOn = new AtomicReference<>();
                m.onOcall(5, (in, cap) -> {
                    ranOn.set(Thread.currentThread());
                    byte[] out = Arrays.copyOf(in, in.length + 1);
                    out[in.length] = (byte) cap;
                    return out;
                });
                assertArrayEquals(new byte[]{9, 8, 16}, m.call(2, new byte[]{9, 8}, 16));
                assertEquals(Thread.currentThread(), ranOn.get(), "the handler runs on the calling thread");
                m.onOcall(5, (in, cap) -> new byte[cap + 1]);
                fails(EnclaveStatus.INVALID_PARAMETER, () -> m.call(2, new byte[0], 16));
                m.onOcall(5, (in, cap) -> {
                    throw new EnclaveCallException(EnclaveStatus.OUT_OF_MEMORY, "no room");
                });
                fails(EnclaveStatus.OUT_OF_MEMORY, () -> m.call(2, new byte[0], 16));
                m.onOcall(5, (in, cap) -> {
                    throw new IllegalStateException("a bug in the handler");
                });
                fails(EnclaveStatus.UNEXPECTED, () -> m.call(2, new byte[0], 16));
                assertEquals(2, enclave.connections.get(), "failed OCALLs keep the call connection");
            }
        });
    }

    @Test
    void aNestedEcallFromAnOcallHandlerIsRefusedOnTheHost() throws Exception {
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                AtomicReference<EnclaveCallException> nested = new AtomicReference<>();
                m.onOcall(5, (in, cap) -> {
                    nested.set(assertThrows(EnclaveCallException.class, () -> m.call(0, new byte[0], 0)));
                    return in;
                });
                assertArrayEquals(new byte[]{4}, m.call(2, new byte[]{4}, 4));
                assertEquals(EnclaveStatus.ECALL_NOT_ALLOWED.code(), nested.get().code(), nested.get().toString());
                assertTrue(nested.get().getMessage().contains("nested"), nested.get().getMessage());
                long ecalls = enclave.received.stream().filter(f -> f.type() == ECALL).count();
                assertEquals(1, ecalls, "the nested ECALL never reached the enclave");
                assertEquals(0, m.call(0, new byte[0], 0).length, "after the OCALL, ECALLs work again");
            }
        });
    }

    @Test
    void eightThreadsEachOnTheirOwnConnection() throws Exception {
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                m.onOcall(5, (in, cap) -> in);
                ExecutorService pool = Executors.newFixedThreadPool(8);
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int seed = t;
                    done.add(pool.submit(() -> {
                        start.await();
                        Random r = new Random(seed);
                        for (int i = 0; i < 200; i++) {
                            byte[] data = new byte[r.nextInt(9000)];
                            r.nextBytes(data);
                            assertArrayEquals(data, m.call(i % 2 == 0 ? 1 : 2, data, data.length), "call " + i
                                    + " of thread " + seed);
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : done) {
                    f.get(BOUND.toSeconds(), TimeUnit.SECONDS);
                }
                pool.shutdown();
            }
            assertEquals(9, enclave.connections.get(), "one module connection and one call connection per thread");
        });
    }

    @Test
    void badMagicClosesThatConnectionOnly() throws Exception {
        enclave.script(new Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                if (index == 9) {
                    p.raw(header(0x12345678, ECALL_RETURN, 0, 0));
                } else {
                    super.ecall(p, index, outCapacity, in);
                }
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                EnclaveCallException e = fails(EnclaveStatus.UNEXPECTED, () -> m.call(9, new byte[0], 0));
                assertTrue(e.getMessage().contains("magic 0x12345678"), e.getMessage());
                assertArrayEquals(new byte[]{1}, m.call(1, new byte[]{1}, 1), "the next call gets a new connection");
                assertEquals(3, enclave.connections.get());
            }
        });
    }

    @Test
    void oversizeAndUnexpectedMessagesAreRefusedBeforeTheirPayload() throws Exception {
        enclave.script(new Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                switch (index) {
                    // Announces 2 GiB and sends none of it: the SDK must not wait for it or allocate it.
                    case 10 -> p.raw(header(MAGIC, ECALL_RETURN, 0x7fffffff, 0));
                    case 11 -> p.send(ECALL_RETURN, 0, new byte[outCapacity + 1]);
                    case 12 -> p.send(ATTACHED, 0, new byte[0]);
                    case 13 -> p.raw(header(MAGIC, 99, 0, 0));
                    case 14 -> p.raw(header(MAGIC, ECALL, 0, 0));
                    default -> super.ecall(p, index, outCapacity, in);
                }
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                assertTrue(fails(EnclaveStatus.UNEXPECTED, () -> m.call(10, new byte[0], 0)).getMessage()
                        .contains("over the limit"));
                assertTrue(fails(EnclaveStatus.UNEXPECTED, () -> m.call(11, new byte[0], 8)).getMessage()
                        .contains("more than its out capacity 8"));
                assertTrue(fails(EnclaveStatus.UNEXPECTED, () -> m.call(12, new byte[0], 0)).getMessage()
                        .contains("ATTACHED"));
                assertTrue(fails(EnclaveStatus.UNEXPECTED, () -> m.call(13, new byte[0], 0)).getMessage()
                        .contains("unknown type 99"));
                assertTrue(fails(EnclaveStatus.UNEXPECTED, () -> m.call(14, new byte[0], 0)).getMessage()
                        .contains("only the host sends"));
                assertEquals(0, m.call(0, new byte[0], 0).length, "the module is still usable");
            }
        });
    }

    @Test
    void anErrorMessageEndsTheConnectionWithItsStatusAndReason() throws Exception {
        enclave.script(new Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                p.send(ERROR, EnclaveStatus.INVALID_ENCLAVE_ID.code(), "module 7 is unloaded".getBytes(StandardCharsets.UTF_8));
                p.ch.close();
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                EnclaveCallException e = fails(EnclaveStatus.INVALID_ENCLAVE_ID, () -> m.call(0, new byte[0], 0));
                assertTrue(e.getMessage().contains("module 7 is unloaded"), e.getMessage());
            }
        });
    }

    @Test
    void aPeerClosingMidCallIsACrashThenTheEnclaveIsLost() throws Exception {
        enclave.script(new Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                p.ch.close();
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                fails(EnclaveStatus.ENCLAVE_CRASHED, () -> m.call(0, new byte[0], 0));
                int before = enclave.connections.get();
                EnclaveCallException lost = fails(EnclaveStatus.ENCLAVE_LOST, () -> m.call(0, new byte[0], 0));
                assertTrue(lost.getMessage().contains("load it again"), lost.getMessage());
                assertEquals(before, enclave.connections.get(), "a lost enclave is not asked again");
            }
        });
    }

    @Test
    void aPeerStallingInTheMiddleOfAMessageTimesOut() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        enclave.script(new Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                if (index == 20) {
                    p.raw(Arrays.copyOf(header(MAGIC, ECALL_RETURN, 0, 0), 7));
                } else if (index == 21) {
                    byte[] h = header(MAGIC, ECALL_RETURN, 100, 0);
                    p.raw(h, new byte[50]);
                } else {
                    super.ecall(p, index, outCapacity, in);
                    return;
                }
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                EnclaveCallException e = fails(EnclaveStatus.SERVICE_TIMEOUT, () -> m.call(20, new byte[0], 0));
                assertTrue(e.getMessage().contains("500 ms"), e.getMessage());
                fails(EnclaveStatus.SERVICE_TIMEOUT, () -> m.call(21, new byte[0], 100));
                assertEquals(0, m.call(0, new byte[0], 0).length, "a timeout closes one connection, not the module");
            } finally {
                release.countDown();
            }
        });
    }

    @Test
    void aCallTimeoutBoundsAnEcallThatNeverReturns() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        enclave.script(new Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = EnclaveModule.load(moduleFile, enclave.socket,
                    FAST.withCallTimeout(Duration.ofMillis(300)))) {
                fails(EnclaveStatus.SERVICE_TIMEOUT, () -> m.call(0, new byte[0], 0));
            } finally {
                release.countDown();
            }
        });
    }

    @Test
    void aBridgeThatNeverAnswersOrRefusesAndNoSocketAtAll() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        enclave.script(p -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            try {
                fails(EnclaveStatus.SERVICE_TIMEOUT, this::load);
            } finally {
                release.countDown();
            }
            enclave.script(p -> p.ch.close());
            fails(EnclaveStatus.SERVICE_UNAVAILABLE, this::load);
            enclave.script(p -> {
                p.ok();
                p.read();
            });
            fails(EnclaveStatus.ENCLAVE_CRASHED, this::load);
            CountDownLatch answered = new CountDownLatch(1);
            enclave.script(p -> {
                p.ok();
                p.read();
                try {
                    answered.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                EnclaveCallException e = fails(EnclaveStatus.SERVICE_TIMEOUT, this::load);
                assertTrue(e.getMessage().contains("LOAD"), e.getMessage());
            } finally {
                answered.countDown();
            }
            EnclaveCallException none = fails(EnclaveStatus.NO_DEVICE,
                    () -> EnclaveModule.load(moduleFile, dir.resolve("nothing.sock"), FAST));
            assertTrue(none.getMessage().contains(dir.resolve("nothing.sock").toString()), none.getMessage());
        });
    }

    @Test
    void anInterruptNeitherEndsNorSpinsACallAndStaysSet() throws Exception {
        CountDownLatch inCall = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        enclave.script(new Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                inCall.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.ecall(p, index, outCapacity, in);
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            try (EnclaveModule m = load()) {
                ExecutorService other = Executors.newSingleThreadExecutor();
                AtomicReference<Thread> caller = new AtomicReference<>();
                AtomicReference<Object> outcome = new AtomicReference<>();
                try {
                    Future<?> call = other.submit(() -> {
                        caller.set(Thread.currentThread());
                        try {
                            byte[] out = m.call(1, new byte[]{5}, 1);
                            outcome.set(Arrays.toString(out) + " interrupted=" + Thread.currentThread().isInterrupted());
                        } catch (RuntimeException e) {
                            outcome.set(e);
                        }
                    });
                    assertTrue(inCall.await(10, TimeUnit.SECONDS));
                    call.cancel(true); // interrupts the calling thread
                    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
                    Thread.sleep(50);
                    long cpu0 = mx.getThreadCpuTime(caller.get().getId());
                    Thread.sleep(300);
                    long cpu = mx.getThreadCpuTime(caller.get().getId()) - cpu0;
                    assertTrue(cpu < TimeUnit.MILLISECONDS.toNanos(20), "the interrupted caller burned " + cpu / 1_000_000
                            + " ms of CPU in 300 ms of waiting");
                    release.countDown();
                    other.shutdown();
                    assertTrue(other.awaitTermination(10, TimeUnit.SECONDS), "the call returned once answered");
                } finally {
                    release.countDown();
                    other.shutdownNow();
                }
                assertEquals("[5] interrupted=true", String.valueOf(outcome.get()), "the call completed, interrupt kept");
                assertArrayEquals(new byte[]{6}, m.call(1, new byte[]{6}, 1));
            }
        });
    }

    @Test
    void closeEndsACallInFlightOnAnotherThreadAndRefusesLaterCalls() throws Exception {
        CountDownLatch inCall = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        enclave.script(new Good() {
            @Override
            void ecall(Peer p, int index, int outCapacity, byte[] in) throws IOException {
                inCall.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        assertTimeoutPreemptively(BOUND, () -> {
            EnclaveModule m = load();
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                Future<EnclaveCallException> blocked = other.submit(() ->
                        assertThrows(EnclaveCallException.class, () -> m.call(0, new byte[0], 0)));
                assertTrue(inCall.await(10, TimeUnit.SECONDS));
                m.close();
                assertEquals(EnclaveStatus.INVALID_ENCLAVE_ID.code(), blocked.get(10, TimeUnit.SECONDS).code());
                fails(EnclaveStatus.INVALID_ENCLAVE_ID, () -> m.call(0, new byte[0], 0));
                m.close();
            } finally {
                release.countDown();
                other.shutdownNow();
            }
        });
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not met within 10 s");
            Thread.sleep(5);
        }
    }
}
