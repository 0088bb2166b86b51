package org.enclaveruntime.vmm;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.platform.CpuList;
import org.enclaveruntime.platform.IsolationMode;
import org.enclaveruntime.platform.PageSize;
import org.enclaveruntime.platform.PartitionPlan;
import org.enclaveruntime.service.ControlClient;
import org.enclaveruntime.service.EnclaveService;
import org.enclaveruntime.service.LifecycleErrors;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.state.StateErrors;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.enclaveruntime.testing.RequiresKvm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * `stop` while the guest ends by itself: the service under test is the VMM's own (lock, state file, control
 * socket), in this JVM, with machine-code guests that become READY and then, after a short random delay,
 * shut down, panic or triple-fault, while the test stops them after a random delay of its own. No round may
 * answer E450, log a failed control request, or bring the JVM down by writing to unmapped guest RAM.
 */
@RequiresKvm
class StopRaceTest {
    /** 200 by default; the nested harness, ~100x slower per VM creation, runs fewer with -DstopRace.rounds. */
    private static final int ROUNDS = Integer.getInteger("stopRace.rounds", 200);
    private static final long RAM = 16L << 20;
    private static final long SEED = Long.getLong("stopRace.seed", System.nanoTime());

    private enum Ending {
        SHUTDOWN("ba0105000031c0ef"),                         // mov $0x501,%edx; xor %eax,%eax; out
        PANIC("488d0508000000ba02050000ef"),                  // lea msg(%rip),%rax; mov $0x502,%edx; out
        TRIPLE_FAULT("488b042500000000");                     // mov 0x0,%rax

        final String code;

        Ending(String code) {
            this.code = code;
        }

        /** READY; `delay` turns of an empty loop; the ending; spin (and PANIC's message after it). */
        byte[] guest(int delay) {
            StringBuilder hex = new StringBuilder("ba00050000b801000000ef"); // READY
            hex.append("b9").append(le32(delay)).append("ffc975fc");          // mov $delay,%ecx; 1: dec; jnz 1b
            hex.append(code).append("ebfe");                                  // ending; jmp .
            if (this == PANIC) {
                hex.append("72616365").append("00");                          // "race"
            }
            return TestGuests.elf(hex.toString());
        }

        private static String le32(int v) {
            return String.format("%02x%02x%02x%02x", v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24);
        }
    }

    @TempDir
    Path dir;
    private final ListAppender<ILoggingEvent> controlLog = new ListAppender<>();
    private final Logger controlLogger = (Logger) LoggerFactory.getLogger("org.enclaveruntime.service.ControlServer");

    @BeforeEach
    void watchTheControlSocket() {
        controlLog.start();
        controlLogger.addAppender(controlLog);
    }

    @AfterEach
    void stopWatching() {
        controlLogger.detachAppender(controlLog);
    }

    private EnclaveService.Launch launch(RunDirectory runDir, byte[] guest) {
        PartitionPlan plan = new PartitionPlan(CpuList.of(1), RAM >> 20, PageSize.SIZE_4K, -1, List.of(),
                CpuList.of(0), 0, true, "test", null);
        return new EnclaveService.Launch(() -> plan, p -> new VmSpec(1, RAM, guest, false, null, 3, List.of(),
                MemoryBacking.ORDINARY), runDir, Duration.ofSeconds(30), "race", Map.of(), null, IsolationMode.NONE);
    }

    @Test
    void stopWhileTheGuestEndsByItselfNeverFails() throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        RunDirectory runDir = new RunDirectory(dir.resolve("run")).create();
        Map<String, Integer> outcomes = new java.util.TreeMap<>();
        Map<Ending, Integer> endings = new EnumMap<>(Ending.class);
        for (int round = 0; round < ROUNDS; round++) {
            Ending ending = Ending.values()[round % Ending.values().length];
            endings.merge(ending, 1, Integer::sum);
            // Short delays end the guest before the test has even seen READY; long ones after the stop.
            int guestDelay = 1 + (random.nextBoolean() ? random.nextInt(200_000) : random.nextInt(20_000_000));
            long stopDelayMicros = random.nextInt(1500);
            String where = "round " + round + " (seed " + SEED + ", " + ending + ", guest delay " + guestDelay
                    + ", stop after " + stopDelayMicros + " us)";

            CompletableFuture<Void> ready = new CompletableFuture<>();
            EnclaveService service = new EnclaveService(launch(runDir, ending.guest(guestDelay)),
                    new EnclaveService.Events() {
                        @Override
                        public void progress(String step) {
                        }

                        @Override
                        public void ready(StateRecord running) {
                            ready.complete(null);
                        }

                        @Override
                        public void failed(EnclaveException error) {
                            ready.completeExceptionally(error);
                        }
                    });
            CompletableFuture<Integer> vmm = CompletableFuture.supplyAsync(service::run);
            try {
                ready.get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                // The guest may end before READY is seen only if READY was lost: that is a failure too.
                fail(where + ": the enclave did not start: " + e.getCause());
            }
            TimeUnit.MICROSECONDS.sleep(stopDelayMicros);
            String answer;
            try {
                answer = "ok " + new ControlClient(runDir.controlSocket()).stop(Duration.ofSeconds(5));
            } catch (EnclaveException e) {
                assertNotEquals(LifecycleErrors.CONTROL, e.code(), where + ": " + e);
                // The VMM had already finished and closed its socket: the CLI then reads the state file.
                assertEquals(StateErrors.NOT_RUNNING, e.code(), where + ": " + e);
                answer = "socket closed";
            }
            int status = vmm.get(60, TimeUnit.SECONDS);
            StateRecord last = new StateFile(runDir).read().orElseThrow();
            assertTrue(last.state() == EnclaveState.STOPPED || last.state() == EnclaveState.CRASHED,
                    where + ": " + last);
            assertEquals(last.state() == EnclaveState.CRASHED ? 8 : 0, status, where + ": " + last);
            outcomes.merge(answer.replaceAll(":.*", "").replaceAll("\\(.*", "").strip(), 1, Integer::sum);
            List<String> errors = controlLog.list.stream().filter(ev -> ev.getLevel().isGreaterOrEqual(Level.WARN))
                    .map(ILoggingEvent::getFormattedMessage).toList();
            assertEquals(List.of(), errors, where + ": the control socket failed a request");
        }
        System.out.println("stop race, seed " + SEED + ": " + endings + "; answers " + outcomes);
    }
}
