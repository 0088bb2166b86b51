package org.enclaveruntime.devices;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DeviceBusTest {
    private final GuestLog log = new GuestLog();

    @AfterEach
    void closeLog() {
        log.close();
    }

    /** Records accesses; reads return offset + 0x100. */
    static final class Recorder implements BusDevice {
        final List<String> log = new ArrayList<>();

        @Override
        public long read(int vcpu, long offset, int size) {
            log.add("r" + offset + "/" + size);
            return offset + 0x100;
        }

        @Override
        public void write(int vcpu, long offset, int size, long value) {
            log.add("w" + offset + "/" + size + "=" + value);
        }
    }

    @Test
    void dispatchesByRangeWithOffsets() {
        DeviceBus bus = DeviceBus.mmio(log);
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        bus.register(0x2000, 0x1000, "b", b);
        bus.register(0x1000, 0x1000, "a", a);
        assertEquals(0x104, bus.read(0, 0x1004, 4));
        bus.write(1, 0x2ff8, 8, 42);
        assertEquals(List.of("r4/4"), a.log);
        assertEquals(List.of("w4088/8=42"), b.log);
        assertEquals(0xFFFFFFFFL, bus.read(0, 0x3000, 4));
        assertEquals(0xFFL, bus.read(0, 0xfff, 1));
        assertEquals(-1L, bus.read(0, 0x2ffc, 8), "an access straddling the end of a device is unclaimed");
        bus.write(0, 0x5000, 2, 7);
        assertEquals(4, bus.unclaimedAccesses());
    }

    @Test
    void aPortAccessOfAnyWidthAddressesOnePort() {
        DeviceBus bus = DeviceBus.ports(log);
        Recorder r = new Recorder();
        bus.register(0x500, 6, "power", r);
        bus.write(0, 0x505, 4, 9);
        assertEquals(List.of("w5/4=9"), r.log);
        assertEquals(0xFFFF, bus.read(0, 0x506, 2));
    }

    @Test
    void overlappingRangesAreRefused() {
        DeviceBus bus = DeviceBus.ports(log);
        bus.register(0x3f8, 8, "com1", new Recorder());
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x3ff, 1, "x", new Recorder()));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x3f0, 9, "y", new Recorder()));
        assertThrows(IllegalArgumentException.class, () -> bus.register(Long.MAX_VALUE, 2, "z", new Recorder()));
        bus.register(0x3f0, 8, "fits", new Recorder());
    }

    @Test
    void unclaimedFloodIsCountedNotFatal() {
        DeviceBus bus = DeviceBus.ports(log);
        for (int i = 0; i < 100_000; i++) {
            bus.write(0, 0x600, 1, i);
        }
        assertEquals(100_000, bus.unclaimedAccesses());
    }

    @Test
    void serialTransmitsAndKeepsItsRegisters() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        Serial8250 uart = new Serial8250(sink, log);
        for (char c : "ok\n".toCharArray()) {
            assertEquals(0x60, uart.read(0, 5, 1) & 0x60, "LSR: THR empty and transmitter idle");
            uart.write(0, 0, 1, c);
        }
        assertEquals("ok\n", sink.toString());
        uart.write(0, 7, 1, 0x42);
        assertEquals(0x42, uart.read(0, 7, 1), "scratch");
        uart.write(0, 3, 1, 0x83);
        uart.write(0, 0, 1, 0x0c);
        uart.write(0, 1, 1, 0x00);
        assertEquals(0x0c, uart.read(0, 0, 1), "DLL under DLAB");
        uart.write(0, 3, 1, 0x03);
        assertEquals("ok\n", sink.toString(), "divisor writes are not transmitted");
        assertEquals(0x03, uart.read(0, 3, 1));
        new Serial8250(null, log).write(0, 0, 1, 'x');
    }
}
