package org.enclaveruntime.image;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * METADATA against docs/image-format.md, not against an earlier implementation: the rules of that page
 * ("METADATA") are written out here, the builder's output must follow them to the letter, and the reader
 * must accept and refuse what they say.
 */
class ImageMetadataFormatTest {
    private static final ObjectMapper STRICT = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final Pattern HEX96 = Pattern.compile("[0-9a-f]{96}");
    private static final Pattern ISO_SECOND = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z");
    private static final String SHA = "ab".repeat(48);

    @TempDir
    Path dir;

    // ---- what the builder writes

    @Test
    void everyBuildWritesTheDocumentedForm() throws Exception {
        Path kernel = Files.write(dir.resolve("bzImage"), new byte[] {1, 2, 3});
        Path initrd = Files.write(dir.resolve("initrd.cpio"), new byte[] {4, 5});
        byte[] elf = TestElf.minimal(50, 9);
        List<ImageBuilder> builds = List.of(
                new ImageBuilder().runtime(elf, "runtime.elf"),
                new ImageBuilder().runtime(elf, "runtime.elf").sourceDateEpoch(1_700_000_000L),
                new ImageBuilder().runtime(elf, "runtime.elf").sourceDateEpoch(0L).kernel(kernel),
                new ImageBuilder().runtime(elf, "runtime.elf").kernel(kernel).cmdline("console=ttyS0 quiet"),
                new ImageBuilder().runtime(elf, "rt").kernel(kernel).cmdline("x").initrd(initrd).name("dé\"mo"),
                new ImageBuilder().runtime(elf, "rt").kernel(kernel).initrd(initrd));
        for (ImageBuilder build : builds) {
            RawImage image = new RawImage(build.toBytes());
            checkDocumentedForm(image);
            EnclaveImage.parse(image.bytes); // and the reader takes it
        }
    }

    /** The page's rules for METADATA, read off the image's bytes with a general JSON parser. */
    private static void checkDocumentedForm(RawImage image) throws Exception {
        byte[] bytes = image.content(image.indexOf(SectionType.METADATA));
        String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes)).toString();
        JsonNode json = STRICT.readTree(bytes);
        assertTrue(json.isObject(), text);
        assertEquals(text, STRICT.writeValueAsString(json), "one object, no whitespace outside strings");
        assertNoNulls(json, text);

        boolean timed = json.has("source_date_epoch");
        List<String> keys = new ArrayList<>(List.of("format", "name", "version", "builder"));
        if (timed) {
            keys.addAll(List.of("source_date_epoch", "build_time"));
        }
        keys.add("inputs");
        assertEquals(keys, names(json), "keys, in this order, optional ones omitted when unset: " + text);

        assertTrue(json.get("format").isIntegralNumber() && json.get("format").asLong() == 1, text);
        for (String key : List.of("name", "version", "builder")) {
            JsonNode v = json.get(key);
            assertTrue(v.isTextual() && !v.asText().isBlank() && v.asText().length() <= 256, key + ": " + text);
        }
        if (timed) {
            JsonNode epoch = json.get("source_date_epoch");
            assertTrue(epoch.isIntegralNumber() && epoch.asLong() >= 0, text);
            String time = json.get("build_time").asText();
            assertTrue(ISO_SECOND.matcher(time).matches(), text);
            assertEquals(Instant.ofEpochSecond(epoch.asLong()), Instant.parse(time), text);
        }

        List<Integer> boot = new ArrayList<>();
        for (int i = 0; i < image.sectionCount(); i++) {
            if (image.type(i) <= 4) { // RUNTIME, KERNEL, CMDLINE, INITRD
                boot.add(i);
            }
        }
        JsonNode inputs = json.get("inputs");
        assertTrue(inputs.isArray() && inputs.size() == boot.size(), "one input per boot section: " + text);
        String[] typeNames = {null, "RUNTIME", "KERNEL", "CMDLINE", "INITRD"};
        for (int k = 0; k < boot.size(); k++) {
            int section = boot.get(k);
            JsonNode in = inputs.get(k);
            String type = typeNames[image.type(section)];
            boolean cmdline = type.equals("CMDLINE");
            assertEquals(cmdline ? List.of("section", "size", "sha384") : List.of("section", "file", "size", "sha384"),
                    names(in), "input keys, file absent exactly for CMDLINE: " + text);
            assertEquals(type, in.get("section").asText(), "in table order: " + text);
            if (!cmdline) {
                String file = in.get("file").asText();
                assertTrue(in.get("file").isTextual() && !file.isBlank() && !file.contains("/") && file.length() <= 256,
                        text);
            }
            assertTrue(in.get("size").isIntegralNumber(), text);
            assertEquals(image.size(section), in.get("size").asLong(), text);
            String sha = in.get("sha384").asText();
            assertTrue(HEX96.matcher(sha).matches(), text);
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-384").digest(image.content(section))),
                    sha, text);
        }
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static void assertNoNulls(JsonNode node, String text) {
        assertFalse(node.isNull(), "an unset key is omitted, never null: " + text);
        node.elements().forEachRemaining(child -> assertNoNulls(child, text));
    }

    // ---- what the reader accepts

    private static final String INPUT = "{\"section\":\"RUNTIME\",\"file\":\"r.elf\",\"size\":1,\"sha384\":\"" + SHA + "\"}";
    private static final String TOP = "\"format\":1,\"name\":\"n\",\"version\":\"v\",\"builder\":\"b\"";

    private static String with(String extra) {
        return "{" + TOP + extra + ",\"inputs\":[" + INPUT + "]}";
    }

    private static String withInput(String input) {
        return "{" + TOP + ",\"inputs\":[" + input + "]}";
    }

    private static String input(String fields) {
        return "{" + fields + "}";
    }

    @Test
    void readerAcceptsWhatThePageAllows() {
        for (String text : List.of(
                with(""),
                with(",\"extra\":{\"a\":[1,null]},\"more\":null"),                        // unknown keys skipped
                "{\"inputs\":[" + INPUT + "],\"builder\":\"b\",\"version\":\"v\",\"name\":\"n\",\"format\":1}",
                "{ " + TOP.replace(",", " ,\n ") + " , \"inputs\" : [ " + INPUT + " ] }\n", // whitespace, any order
                with(",\"source_date_epoch\":null,\"build_time\":null"),                  // null = absent
                with(",\"source_date_epoch\":0,\"build_time\":\"1970-01-01T00:00:00Z\""),
                with(",\"source_date_epoch\":1700000000,\"build_time\":\"2023-11-14T22:13:20Z\""),
                withInput(input("\"section\":\"CMDLINE\",\"size\":3,\"sha384\":\"" + SHA + "\"")),
                withInput(input("\"section\":\"CMDLINE\",\"file\":null,\"size\":3,\"sha384\":\"" + SHA + "\"")),
                withInput(input("\"section\":\"INITRD\",\"file\":\"i\",\"size\":3,\"sha384\":\"" + SHA + "\",\"x\":1")),
                "{" + TOP.replace("\"n\"", "\"" + "n".repeat(256) + "\"") + ",\"inputs\":[]}")) {
            ImageMetadata.fromJson(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), "t");
        }
    }

    @Test
    void readerRefusesWhatThePageForbids() {
        String sha = "\"sha384\":\"" + SHA + "\"";
        Map<String, String> refused = new TreeMap<>(Map.ofEntries(
                Map.entry("repeated key", with(",\"name\":\"again\"")),
                Map.entry("repeated key in an input", withInput(input("\"section\":\"RUNTIME\",\"file\":\"a\",\"file\":"
                        + "\"b\",\"size\":1," + sha))),
                Map.entry("epoch without time", with(",\"source_date_epoch\":5")),
                Map.entry("time without epoch", with(",\"build_time\":\"1970-01-01T00:00:05Z\"")),
                Map.entry("time not the epoch", with(",\"source_date_epoch\":5,\"build_time\":\"1970-01-01T00:00:06Z\"")),
                Map.entry("time with a fraction", with(",\"source_date_epoch\":5,\"build_time\":\"1970-01-01T00:00:05.000Z\"")),
                Map.entry("negative epoch", with(",\"source_date_epoch\":-1,\"build_time\":\"1969-12-31T23:59:59Z\"")),
                Map.entry("epoch as text", with(",\"source_date_epoch\":\"5\",\"build_time\":\"1970-01-01T00:00:05Z\"")),
                Map.entry("name a number", "{\"format\":1,\"name\":5,\"version\":\"v\",\"builder\":\"b\",\"inputs\":[]}"),
                Map.entry("name blank", "{\"format\":1,\"name\":\" \",\"version\":\"v\",\"builder\":\"b\",\"inputs\":[]}"),
                Map.entry("name too long", "{" + TOP.replace("\"n\"", "\"" + "n".repeat(257) + "\"") + ",\"inputs\":[]}"),
                Map.entry("no builder", "{\"format\":1,\"name\":\"n\",\"version\":\"v\",\"inputs\":[]}"),
                Map.entry("format 2", "{" + TOP.replace("1", "2") + ",\"inputs\":[]}"),
                Map.entry("format as text", "{" + TOP.replace("1", "\"1\"") + ",\"inputs\":[]}"),
                Map.entry("no format", "{" + TOP.replace("\"format\":1,", "") + ",\"inputs\":[]}"),
                Map.entry("no inputs", "{" + TOP + "}"),
                Map.entry("inputs null", "{" + TOP + ",\"inputs\":null}"),
                Map.entry("inputs an object", "{" + TOP + ",\"inputs\":{}}"),
                Map.entry("input null", "{" + TOP + ",\"inputs\":[null]}"),
                Map.entry("section unknown", withInput(input("\"section\":\"FIRMWARE\",\"file\":\"f\",\"size\":1," + sha))),
                Map.entry("section not booted", withInput(input("\"section\":\"METADATA\",\"file\":\"f\",\"size\":1," + sha))),
                Map.entry("no section", withInput(input("\"file\":\"f\",\"size\":1," + sha))),
                Map.entry("runtime without file", withInput(input("\"section\":\"RUNTIME\",\"size\":1," + sha))),
                Map.entry("file a path", withInput(input("\"section\":\"RUNTIME\",\"file\":\"a/b\",\"size\":1," + sha))),
                Map.entry("file blank", withInput(input("\"section\":\"KERNEL\",\"file\":\"\",\"size\":1," + sha))),
                Map.entry("cmdline with file", withInput(input("\"section\":\"CMDLINE\",\"file\":\"c\",\"size\":1," + sha))),
                Map.entry("size 0", withInput(input("\"section\":\"RUNTIME\",\"file\":\"r\",\"size\":0," + sha))),
                Map.entry("no size", withInput(input("\"section\":\"RUNTIME\",\"file\":\"r\"," + sha))),
                Map.entry("size as text", withInput(input("\"section\":\"RUNTIME\",\"file\":\"r\",\"size\":\"1\"," + sha))),
                Map.entry("sha upper case", withInput(input("\"section\":\"RUNTIME\",\"file\":\"r\",\"size\":1,"
                        + sha.toUpperCase().replace("SHA384", "sha384")))),
                Map.entry("sha short", withInput(input("\"section\":\"RUNTIME\",\"file\":\"r\",\"size\":1,\"sha384\":\"ab\""))),
                Map.entry("no sha", withInput(input("\"section\":\"RUNTIME\",\"file\":\"r\",\"size\":1"))),
                Map.entry("after the object", with("") + " {}"),
                Map.entry("cut short", with("").substring(0, 40)),
                Map.entry("null document", "null"),
                Map.entry("array document", "[]"),
                Map.entry("empty", "")));
        refused.forEach((why, text) -> {
            EnclaveException e = assertThrows(EnclaveException.class,
                    () -> ImageMetadata.fromJson(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), "t"),
                    why + ": " + text);
            assertEquals(ImageErrors.BAD_CONTENT, e.code(), why);
            assertTrue(e.getMessage().startsWith("t: METADATA "), e.getMessage());
        });
    }

    @Test
    void inputsMustDescribeTheSectionsInTableOrder() throws Exception {
        byte[] elf = TestElf.minimal(50, 2);
        byte[] kernel = {1, 2, 3};
        String runtime = "{\"section\":\"RUNTIME\",\"file\":\"r\",\"size\":" + elf.length + ",\"sha384\":\""
                + Sha384.digest(elf).hex() + "\"}";
        String kernelInput = "{\"section\":\"KERNEL\",\"file\":\"k\",\"size\":3,\"sha384\":\""
                + Sha384.digest(kernel).hex() + "\"}";
        assertEquals(List.of(), problems(elf, kernel, runtime + "," + kernelInput));
        for (String inputs : List.of(kernelInput + "," + runtime, runtime, runtime + "," + kernelInput + "," + runtime,
                runtime + "," + kernelInput.replace("\"size\":3", "\"size\":4"),
                runtime + "," + kernelInput.replace(Sha384.digest(kernel).hex(), "0".repeat(96)))) {
            List<String> problems = problems(elf, kernel, inputs);
            assertEquals(1, problems.size(), inputs);
            assertTrue(problems.get(0).startsWith("E509 image: METADATA "), problems.get(0));
        }
    }

    /** The error reading an image with these sections and these inputs, or none. */
    private static List<String> problems(byte[] elf, byte[] kernel, String inputs) {
        byte[] metadata = ("{" + TOP + ",\"inputs\":[" + inputs + "]}").getBytes(StandardCharsets.UTF_8);
        byte[] image = RawImage.assemble(new TreeMap<>(Map.of(SectionType.RUNTIME, elf, SectionType.KERNEL, kernel,
                SectionType.METADATA, metadata)));
        try {
            EnclaveImage.parse(image);
            return List.of();
        } catch (EnclaveException e) {
            return List.of(e.code().id() + " " + e.getMessage());
        }
    }

    @Test
    void readsWhatItWrites() {
        for (ImageMetadata m : List.of(
                new ImageMetadata(1, "demo", "0.1.0", "enclavectl 0.1.0", null, null, List.of(
                        new ImageMetadata.BuildInput("RUNTIME", "runtime.elf", 12345, SHA))),
                new ImageMetadata(1, "dé\"mo\\\n\u0001\u2028", "1", "b", 1_700_000_000L, "2023-11-14T22:13:20Z",
                        List.of(new ImageMetadata.BuildInput("KERNEL", "vmlinuz", Long.MAX_VALUE, SHA),
                                new ImageMetadata.BuildInput("CMDLINE", null, 1, SHA))))) {
            byte[] json = m.toJson();
            assertEquals(m, ImageMetadata.fromJson(ByteBuffer.wrap(json), "t"));
            if (new String(json, StandardCharsets.UTF_8).contains("null")) {
                fail("an unset key is omitted, never null: " + new String(json, StandardCharsets.UTF_8));
            }
        }
    }
}
