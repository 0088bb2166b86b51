package org.enclaveruntime.devices;

import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HypercallPortsTest {
    private static final long SIZE = 2L << 20;
    private final GuestLog log = new GuestLog();

    @AfterEach
    void closeLog() {
        log.close();
    }

    static final class Events implements HypercallListener {
        final List<String> seen = new ArrayList<>();

        @Override
        public void ready(int vcpu) {
            seen.add("ready " + vcpu);
        }

        @Override
        public void shutdown(int vcpu, int code) {
            seen.add("shutdown " + code);
        }

        @Override
        public void panic(int vcpu, String message) {
            seen.add("panic " + message);
        }

        @Override
        public void idle(int vcpu) {
            seen.add("idle " + vcpu);
        }

        @Override
        public void fault(int vcpu, long vector) {
            seen.add("fault " + vcpu + " " + vector);
        }
    }

    @Test
    void portsMapToEvents() {
        try (GuestMemory m = GuestMemory.create(SIZE, MemoryBacking.ORDINARY)) {
            Events events = new Events();
            HypercallPorts power = new HypercallPorts(m, events, log);
            byte[] msg = "bad\tthing\u001b[2J\0ignored".getBytes(StandardCharsets.ISO_8859_1);
            m.write(0x4000, msg, 0, msg.length);
            power.write(0, 0, 4, 1);
            power.write(1, 5, 4, 77);
            power.write(1, 3, 4, 0);
            power.write(0, 2, 4, 0x4000);
            power.write(1, 6, 4, 14);
            power.write(0, 1, 4, 3);
            assertEquals(List.of("ready 0", "idle 1", "panic bad\\x09thing\\x1b[2J", "fault 1 14", "shutdown 3"),
                    events.seen);
            assertEquals(List.of(new HypercallPorts.Report(1, 77)), power.reports());
        }
    }

    @Test
    void panicMessageIsCappedAndStaysInsideRam() {
        try (GuestMemory m = GuestMemory.create(SIZE, MemoryBacking.ORDINARY)) {
            HypercallPorts power = new HypercallPorts(m, new Events(), log);
            byte[] a = new byte[2000];
            java.util.Arrays.fill(a, (byte) 'a');
            m.write(0x1000, a, 0, a.length);
            String capped = power.panicMessage(0x1000);
            assertEquals("a".repeat(HypercallPorts.PANIC_MESSAGE_MAX) + " [truncated]", capped);
            m.write(SIZE - 3, a, 0, 3);
            assertEquals("aaa [truncated]", power.panicMessage(SIZE - 3));
            assertTrue(power.panicMessage(SIZE).contains("outside guest RAM"));
            assertTrue(power.panicMessage(0xFFFF_FFFFL).contains("outside guest RAM"));
        }
    }

    @Test
    void reportsAreBounded() {
        try (GuestMemory m = GuestMemory.create(SIZE, MemoryBacking.ORDINARY)) {
            HypercallPorts power = new HypercallPorts(m, new Events(), log);
            for (int i = 0; i < HypercallPorts.REPORTS_KEPT + 10; i++) {
                power.write(0, 5, 4, i);
            }
            assertEquals(HypercallPorts.REPORTS_KEPT, power.reports().size());
            assertEquals(10, power.reports().get(0).value());
        }
    }
}
