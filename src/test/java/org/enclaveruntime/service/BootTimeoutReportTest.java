package org.enclaveruntime.service;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BootTimeoutReportTest {
    @TempDir
    Path dir;

    @Test
    void theLastLinesOfALongConsoleAreShownWhole() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            lines.add("line " + i + " " + "x".repeat(i % 97));
        }
        Path console = dir.resolve("console.log");
        Files.write(console, lines);
        assertEquals(lines.subList(4990, 5000), BootTimeoutReport.lastLines(console, 10));
    }

    @Test
    void aConsoleWithoutFinalNewlineAndFewerLinesThanAsked() throws Exception {
        Path console = dir.resolve("console.log");
        Files.writeString(console, "first\nsecond");
        assertEquals(List.of("first", "second"), BootTimeoutReport.lastLines(console, 10));
    }

    @Test
    void theMessageNamesTheTimeoutTheRegistersAndTheConsole() throws Exception {
        Path console = dir.resolve("console.log");
        Files.writeString(console, "enclave runtime dev: 1 vCPU\nboot held\n");
        String m = BootTimeoutReport.of(Duration.ofSeconds(3), List.of("vCPU 0: rip=0x100234 rsp=0x3fff000"),
                console).message();
        assertTrue(m.contains("within 3000 ms"), m);
        assertTrue(m.contains("vCPU 0: rip=0x100234"), m);
        assertTrue(m.endsWith("\n  | enclave runtime dev: 1 vCPU\n  | boot held"), m);
    }

    @Test
    void withoutDebugTheMessageSaysHowToGetAConsole() {
        String m = BootTimeoutReport.of(Duration.ofSeconds(3), List.of(), null).message();
        assertTrue(m.contains("set debug = true"), m);
    }

    @Test
    void aMissingConsoleFileIsAnEmptyConsole() {
        Path absent = dir.resolve("absent.log");
        String m = BootTimeoutReport.of(Duration.ofSeconds(1), List.of(), absent).message();
        assertTrue(m.contains("printed nothing"), m);
    }
}
