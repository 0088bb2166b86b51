package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What scripts rely on, the same on every command (issue 13, "one CLI convention"). */
class CliConventionTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every visible command's words, e.g. [image, build]. */
    private static List<List<String>> commands(CommandLine cli, List<String> prefix, List<List<String>> into) {
        for (var e : cli.getSubcommands().entrySet()) {
            if (e.getValue().getCommandSpec().usageMessage().hidden() || e.getKey().equals("help")) {
                continue;
            }
            List<String> words = new ArrayList<>(prefix);
            words.add(e.getKey());
            into.add(words);
            commands(e.getValue(), words, into);
        }
        return into;
    }

    @Test
    void dashCapitalVPrintsTheVersionOnEveryCommand() {
        List<List<String>> all = commands(EnclaveCtl.fullCommandLine(), List.of(), new ArrayList<>());
        assertTrue(all.size() > 10, all.toString());
        for (List<String> words : all) {
            List<String> args = new ArrayList<>(words);
            args.add("-V");
            CliRun r = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, r.status(), words + ": " + r);
            assertTrue(r.out().startsWith("enclavectl " + VersionProvider.version()), words + ": " + r);
        }
    }

    @Test
    void usageErrorsCarryACodeAndARemedyOnce() {
        CliRun r = CliRun.of("status", "--bogus");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("error E110: unknown option: '--bogus'"), r.err());
        assertEquals(1, r.err().split("remedy: ", -1).length - 1, r.err());
        assertTrue(r.err().contains("remedy: Run 'enclavectl status --help' for usage."), r.err());
    }

    @Test
    void explainWithoutAnArgumentShowsTheUsageOnce() {
        CliRun r = CliRun.of("explain");
        assertEquals(2, r.status());
        assertFalse(r.err().contains("Error:"), r.err());
        assertTrue(r.err().startsWith("error E110: missing required argument"), r.err());
        assertEquals(1, r.err().split("usage: enclavectl explain", -1).length - 1, r.err());
    }

    @Test
    void aUsageErrorWithOutputJsonIsTheJsonErrorObject() throws Exception {
        for (String[] args : List.of(new String[] {"status", "--output", "json", "--bogus"},
                new String[] {"explain", "-o", "json"}, new String[] {"doctor", "--output=json", "extra"})) {
            CliRun r = CliRun.of(args);
            assertEquals(2, r.status(), r.toString());
            JsonNode error = JSON.readTree(r.out()).path("error");
            assertEquals("E110", error.path("code").asText(), r.out());
            assertEquals(2, error.path("exit_status").asInt());
            assertTrue(error.path("exit_status").isNumber());
            assertFalse(error.path("message").asText().isEmpty());
            assertTrue(error.path("remedy").asText().endsWith("."), r.out());
        }
    }

    @Test
    void explainUsesTheSameFieldNamesAsTheErrorObject() throws Exception {
        CliRun r = CliRun.of("explain", "E110", "--output", "json");
        assertEquals(0, r.status(), r.toString());
        JsonNode explained = JSON.readTree(r.out());
        for (String field : List.of("code", "remedy", "exit_status")) {
            assertTrue(explained.has(field), field + " missing: " + r.out());
        }
    }
}
