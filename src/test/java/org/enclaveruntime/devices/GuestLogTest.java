package org.enclaveruntime.devices;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one rate limiter every guest-caused log line passes, with its lines caught by a list appender. */
class GuestLogTest {
    private static final Pattern SUPPRESSED = Pattern.compile("(\\d+) more guest messages suppressed");

    private final Logger logger = (Logger) LoggerFactory.getLogger(GuestLog.class);
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private Level levelBefore;

    @BeforeEach
    void catchLines() {
        levelBefore = logger.getLevel();
        lines.start();
        logger.addAppender(lines);
    }

    @AfterEach
    void release() {
        logger.detachAppender(lines);
        logger.setLevel(levelBefore);
    }

    @Test
    void aFloodIsCutToTheBucketAndEveryLineIsAccountedFor() {
        logger.setLevel(Level.INFO);
        int flood = 200_000;
        long start = System.nanoTime();
        try (GuestLog log = new GuestLog()) {
            for (int i = 0; i < flood; i++) {
                log.unclaimed("port", 0, 0x600, 1, i % 2 == 0, i);
                if (i % 1000 == 0) {
                    log.unknownStatus(0, 7);
                }
            }
            assertEquals(flood + flood / 1000, log.total());
        }
        long elapsed = System.nanoTime() - start;
        List<ILoggingEvent> events = List.copyOf(lines.list);
        long shown = 0;
        long suppressed = 0;
        for (ILoggingEvent e : events) {
            Matcher m = SUPPRESSED.matcher(e.getFormattedMessage());
            if (m.matches()) {
                suppressed += Long.parseLong(m.group(1));
            } else {
                shown++;
                assertTrue(e.getFormattedMessage().contains("unclaimed port 0x600")
                        || e.getFormattedMessage().contains("unknown status 7"), e.getFormattedMessage());
            }
        }
        assertEquals(flood + flood / 1000, shown + suppressed, "each line is shown or counted in a summary");
        long allowed = GuestLog.BURST + elapsed / GuestLog.REFILL_NANOS + 1;
        assertTrue(shown <= allowed, shown + " lines shown in " + elapsed / 1_000_000 + " ms, at most " + allowed);
        assertTrue(shown >= GuestLog.BURST, "the burst goes through: " + shown);
        assertTrue(SUPPRESSED.matcher(events.get(events.size() - 1).getFormattedMessage()).matches(),
                "close says how many were suppressed at the end");
    }

    @Test
    void debugLinesAreNotEvenCountedWhenDebugIsOff() {
        logger.setLevel(Level.INFO);
        try (GuestLog log = new GuestLog()) {
            for (int i = 0; i < 100; i++) {
                log.report(0, i);
                log.notifyExit(0, i, 1);
            }
            assertEquals(0, log.total());
        }
        assertEquals(List.of(), lines.list);

        logger.setLevel(Level.DEBUG);
        try (GuestLog log = new GuestLog()) {
            log.report(1, 42);
            log.panic(1, "boom");
        }
        assertEquals(List.of("vCPU 1 reports 42", "enclave panicked on vCPU 1: boom"),
                lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
    }

    @Test
    void tokensComeBackWithTime() throws InterruptedException {
        logger.setLevel(Level.INFO);
        try (GuestLog log = new GuestLog()) {
            for (int i = 0; i < GuestLog.BURST + 5; i++) {
                log.unknownStatus(0, i);
            }
            Thread.sleep(GuestLog.REFILL_NANOS * 3 / 1_000_000);
            log.unknownStatus(0, 999);
        }
        List<String> messages = lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertEquals(GuestLog.BURST + 2, messages.size(), messages.toString());
        assertEquals("5 more guest messages suppressed", messages.get(GuestLog.BURST));
        assertEquals("vCPU 0 wrote unknown status 999 (ignored)", messages.get(GuestLog.BURST + 1));
    }
    @Test
    void deviceLinesNameTheDeviceAndTheReason() {
        logger.setLevel(Level.INFO);
        try (GuestLog log = new GuestLog()) {
            log.deviceError("virtio-vsock", "queue 1: chain 3 is INDIRECT");
            log.deviceAccess("virtio-vsock", 2, 0x70, 2, true, 0xF, "only 32-bit accesses, dropped");
            log.deviceAccess("virtio-vsock", 0, 0x0, 1, false, 0, "only 32-bit accesses, reads all ones");
            assertEquals(3, log.total());
        }
        assertEquals(List.of("virtio-vsock needs a reset by the guest's driver: queue 1: chain 3 is INDIRECT",
                "vCPU 2: 2-byte write of 0xf to virtio-vsock register 0x70: only 32-bit accesses, dropped",
                "vCPU 0: 1-byte read of virtio-vsock register 0x0: only 32-bit accesses, reads all ones"),
                lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
    }
}
