package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.errors.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
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

    private static Path runtimeElf() {
        return Path.of(System.getProperty("enclave.build.dir", "target"), "guest", "runtime.elf");
    }

    /** The JSON error object of a failed run with --output json; every field the convention promises. */
    private static JsonNode errorObject(CliRun r) throws Exception {
        JsonNode error = JSON.readTree(r.out()).path("error");
        for (String field : List.of("code", "message", "remedy", "exit_status")) {
            assertTrue(error.has(field), field + " missing: " + r);
        }
        assertTrue(error.path("exit_status").isNumber(), r.toString());
        assertEquals(r.status(), error.path("exit_status").asInt(), r.toString());
        return error;
    }

    @Test
    void theSameBadValueIsTheSameErrorOnEveryCommand(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("enclave.conf");
        String runtime = "[runtime]\nrun_dir = " + dir.resolve("run") + "\nlog_dir = " + dir.resolve("log") + "\n";
        Files.writeString(conf, "[enclave]\nmemory = 128M\n" + runtime);
        String out = dir.resolve("x.bin").toString();
        for (String[] bad : List.of(new String[] {"--memory", "3M", "memory"}, new String[] {"--memory", "512", "memory"},
                new String[] {"--cpu-count", "two", "cpu_count"}, new String[] {"--cpu-count", "0", "cpu_count"})) {
            Path badConf = dir.resolve("bad.conf");
            Files.writeString(badConf, "[enclave]\n" + bad[2] + " = " + bad[1] + "\n" + runtime);
            List<String[]> commands = List.of(
                    new String[] {"start", "--config", conf.toString(), "--dry-run", bad[0], bad[1], "-o", "json"},
                    new String[] {"restart", "--config", conf.toString(), bad[0], bad[1], "-o", "json"},
                    new String[] {"image", "build", "--runtime", runtimeElf().toString(), "--out", out, bad[0], bad[1],
                            "-o", "json"},
                    new String[] {"config", "check", "--config", badConf.toString(), "-o", "json"});
            List<String> seen = new ArrayList<>();
            for (String[] args : commands) {
                CliRun r = CliRun.of(args);
                JsonNode error = errorObject(r);
                assertTrue(error.path("message").asText().contains("'" + bad[1] + "'"), r.toString());
                seen.add(error.path("code").asText() + " exit " + r.status());
            }
            assertEquals(1, seen.stream().distinct().count(), bad[0] + " " + bad[1] + ": " + seen);
            assertEquals(3, CliRun.of(commands.get(0)).status(), "a flag standing for a key is a configuration error");
            assertTrue(Files.notExists(dir.resolve("x.bin")));
        }
    }

    @Test
    void severalProblemsAreAListInTheErrorObject(@TempDir Path dir) throws Exception {
        Path conf = Files.writeString(dir.resolve("enclave.conf"), "[enclave]\nmemory = 3M\ncpu_count = x\nbogus = 1\n");
        CliRun r = CliRun.of("--config", conf.toString(), "config", "check", "--output", "json");
        assertEquals(3, r.status(), r.toString());
        JsonNode error = errorObject(r);
        JsonNode problems = error.path("problems");
        assertEquals(3, problems.size(), r.out());
        assertEquals(List.of("E210", "E208", "E202"), List.of(problems.get(0).path("code").asText(),
                problems.get(1).path("code").asText(), problems.get(2).path("code").asText()));
        assertEquals(problems.get(0).path("code"), error.path("code"));
        for (JsonNode p : problems) {
            assertTrue(p.path("exit_status").isNumber() && p.path("remedy").asText().endsWith("."), p.toString());
            assertFalse(p.path("message").asText().contains("\n"), p.toString());
        }
        assertFalse(error.path("message").asText().contains("\n"), "one problem per message: " + r.out());
        CliRun text = CliRun.of("--config", conf.toString(), "config", "check");
        assertEquals(3, text.err().split("error E", -1).length - 1, "text output still names each: " + text.err());
    }

    @Test
    void everyCommandThatPrintsDataTakesOutputJson(@TempDir Path dir) throws Exception {
        Path conf = Files.writeString(dir.resolve("enclave.conf"), "[enclave]\nmemory = 128M\n");
        CliRun check = CliRun.of("--config", conf.toString(), "config", "check", "--output", "json");
        assertEquals(0, check.status(), check.toString());
        JsonNode json = JSON.readTree(check.out());
        assertEquals(conf.toString(), json.at("/source/path").asText());
        assertTrue(json.path("valid").asBoolean());
        assertEquals(1, json.path("keys_set").asInt());
        // Streams (console) and the hidden internal commands aside, every command that prints takes it.
        List<String> withoutJson = new ArrayList<>();
        for (List<String> words : commands(EnclaveCtl.fullCommandLine(), List.of(), new ArrayList<>())) {
            CommandLine cmd = EnclaveCtl.fullCommandLine();
            for (String w : words) {
                cmd = cmd.getSubcommands().get(w);
            }
            if (cmd.getSubcommands().isEmpty() && cmd.getCommandSpec().findOption("--output") == null) {
                withoutJson.add(String.join(" ", words));
            }
        }
        assertEquals(List.of("console"), withoutJson);
    }

    @Test
    void everyRemedyIsACapitalisedSentenceWithAFullStop() {
        for (ErrorCode c : ErrorCatalog.all()) {
            assertTrue(c.remedy().matches("(?s)[A-Z].*[^.][.]"), c.id() + ": " + c.remedy());
        }
    }

    /** docs/development.md names the code ranges; each one it names has codes, and each range in use is named. */
    @Test
    void developmentDocListsTheCodeRangesThatExist() throws Exception {
        String doc = Files.readString(Path.of("docs/development.md"));
        java.util.Set<String> documented = new java.util.TreeSet<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\bE([1-9])xx\\b").matcher(doc);
        while (m.find()) {
            documented.add(m.group(1));
        }
        java.util.Set<String> used = new java.util.TreeSet<>();
        ErrorCatalog.all().forEach(c -> used.add(c.id().substring(1, 2)));
        assertEquals(used, documented);
    }

    private static List<String> words(String text) {
        return List.of(text.strip().split("\\s+"));
    }

    /** Narrow or wide, help wraps between words: the words are those of the unwrapped text, in order. */
    @Test
    void helpNeverBreaksInsideAWord() {
        for (List<String> path : commands(EnclaveCtl.fullCommandLine(), List.of(), new ArrayList<>())) {
            CommandLine cmd = EnclaveCtl.fullCommandLine();
            for (String w : path) {
                cmd = cmd.getSubcommands().get(w);
            }
            cmd.getCommandSpec().usageMessage().width(1000);
            List<String> unwrapped = words(cmd.getUsageMessage(CommandLine.Help.Ansi.OFF));
            for (int width : List.of(60, 80, 120)) {
                cmd.getCommandSpec().usageMessage().width(width);
                String help = cmd.getUsageMessage(CommandLine.Help.Ansi.OFF);
                assertEquals(unwrapped, words(help), path + " at " + width + " columns:\n" + help);
                for (String line : help.lines().toList()) {
                    assertTrue(line.length() <= width, path + " at " + width + ": " + line);
                }
            }
        }
    }

    @Test
    void theSynopsisOfAUsageErrorWrapsUnderItsOptions() {
        CliRun r = CliRun.of("image", "build");
        assertEquals(2, r.status(), r.toString());
        List<String> synopsis = r.err().lines().filter(l -> !l.startsWith("error") && !l.contains("remedy:")).toList();
        assertTrue(synopsis.size() > 1 && synopsis.get(0).startsWith("usage: enclavectl image build ["), r.err());
        int indent = "usage: enclavectl image build ".length();
        for (String line : synopsis) {
            assertTrue(line.length() <= 80, r.err());
        }
        for (String line : synopsis.subList(1, synopsis.size())) {
            assertEquals(indent, line.length() - line.stripLeading().length(), r.err());
        }
    }

    /** explain's long text wraps like help (80 columns without a terminal), between words. */
    @Test
    void explainWrapsItsLongText() {
        ErrorCode longest = ErrorCatalog.all().stream()
                .max(java.util.Comparator.comparingInt(c -> c.explanation().length())).orElseThrow();
        assertTrue(longest.explanation().length() > 160);
        CliRun r = CliRun.of("explain", longest.id());
        assertEquals(0, r.status(), r.toString());
        r.out().lines().forEach(line -> assertTrue(line.length() <= 80, line));
        String joined = String.join(" ", words(r.out()));
        assertTrue(joined.contains(String.join(" ", words(longest.explanation()))), r.out());
        assertTrue(joined.contains(String.join(" ", words(longest.remedy()))), r.out());
    }

    @Test
    void dashVPrintsTheStackTraceOnce(@TempDir Path dir) throws Exception {
        Path conf = Files.writeString(dir.resolve("enclave.conf"), "[enclave]\nmemory = 3M\n");
        CliRun r = CliRun.of("-v", "--config", conf.toString(), "config", "check");
        assertEquals(3, r.status(), r.toString());
        String firstFrame = r.err().lines().filter(l -> l.startsWith("\tat ")).findFirst().orElseThrow();
        assertEquals(1, r.err().lines().filter(firstFrame::equals).count(), r.err());
        CliRun quiet = CliRun.of("--config", conf.toString(), "config", "check");
        assertFalse(quiet.err().contains("\tat "), quiet.err());
    }
}
