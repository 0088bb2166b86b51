package org.enclaveruntime.service;

import org.enclaveruntime.vmm.EnclaveExit;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How an ended enclave is recorded; StuckVcpuTeardownTest drives the unscrubbed case through a real VMM. */
class EnclaveEndingTest {
    private static final Optional<String> STUCK = Optional.of("vCPU thread vcpu-0 did not stop within 5 s, so "
            + "guest RAM was not scrubbed");

    @Test
    void aRequestedStopOrACleanExitIsStopped() {
        assertFalse(EnclaveEnding.of(true, new EnclaveExit.Stopped(false), Optional.empty()).crashed());
        assertFalse(EnclaveEnding.of(true, new EnclaveExit.Stopped(true), Optional.empty()).crashed());
        assertFalse(EnclaveEnding.of(true, new EnclaveExit.Crashed("triple fault", 0, ""), Optional.empty()).crashed(),
                "what happens after a stop was asked for is that stop");
        EnclaveEnding exited = EnclaveEnding.of(false, new EnclaveExit.CleanShutdown(0), Optional.empty());
        assertFalse(exited.crashed());
        assertEquals("exited", exited.outcome());
    }

    @Test
    void anyOtherEndIsACrash() {
        EnclaveEnding nonZero = EnclaveEnding.of(false, new EnclaveExit.CleanShutdown(3), Optional.empty());
        assertEquals(LifecycleErrors.CRASHED, nonZero.error().code());
        EnclaveEnding panic = EnclaveEnding.of(false, new EnclaveExit.Panicked("boom"), Optional.empty());
        assertTrue(panic.error().getMessage().contains("panicked: boom"), panic.error().getMessage());
    }

    @Test
    void aTeardownThatCouldNotScrubIsNeverStopped() {
        for (boolean stopRequested : List.of(true, false)) {
            for (EnclaveExit exit : List.of(new EnclaveExit.Stopped(true), new EnclaveExit.CleanShutdown(0),
                    new EnclaveExit.Panicked("boom"))) {
                EnclaveEnding ending = EnclaveEnding.of(stopRequested, exit, STUCK);
                assertTrue(ending.crashed(), exit + " with a stuck vCPU");
                assertEquals(LifecycleErrors.NOT_SCRUBBED, ending.error().code());
                assertTrue(ending.error().getMessage().contains("vcpu-0 did not stop")
                        && ending.outcome().contains(EnclaveService.describe(exit)), ending.outcome());
            }
        }
    }
}
