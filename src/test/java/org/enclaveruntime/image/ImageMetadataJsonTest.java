package org.enclaveruntime.image;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The streaming METADATA codec against Jackson databind, which wrote it before: images built before and
 * after must have the same bytes (and so the same hashes), and readers must accept and refuse the same text.
 */
class ImageMetadataJsonTest {
    /** How ImageMetadata configured databind (the record carried @JsonInclude(NON_NULL)). */
    private static final ObjectMapper DATABIND = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @JsonInclude(JsonInclude.Include.NON_NULL)
    private record Old(int format, String name, String version, String builder, Long sourceDateEpoch,
                       String buildTime, List<ImageMetadata.BuildInput> inputs) {
        static Old of(ImageMetadata m) {
            return new Old(m.format(), m.name(), m.version(), m.builder(), m.sourceDateEpoch(), m.buildTime(),
                    m.inputs());
        }
    }

    private static final List<ImageMetadata> SAMPLES = List.of(
            new ImageMetadata(1, "demo", "0.1.0", "enclavectl 0.1.0", null, null, List.of(
                    new ImageMetadata.BuildInput("RUNTIME", "runtime.elf", 12345, "ab".repeat(48)))),
            new ImageMetadata(1, "dé\"mo\\\n\u0001\u2028", "1", "b", 1_700_000_000L, "2023-11-14T22:13:20Z",
                    List.of(new ImageMetadata.BuildInput("KERNEL", "vmlinuz", Long.MAX_VALUE, "00"),
                            new ImageMetadata.BuildInput("CMDLINE", null, 0, null))),
            new ImageMetadata(1, "x", "y", "z", 0L, null, List.of()),
            new ImageMetadata(2, null, null, null, null, null, null));

    @Test
    void writesTheBytesDatabindWrote() throws Exception {
        for (ImageMetadata m : SAMPLES) {
            assertArrayEquals(DATABIND.writeValueAsBytes(Old.of(m)), m.toJson(),
                    () -> new String(m.toJson(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void readsWhatItWrites() {
        for (ImageMetadata m : SAMPLES.subList(0, 3)) {
            assertEquals(m, ImageMetadata.fromJson(ByteBuffer.wrap(m.toJson()), "t"));
        }
    }

    @Test
    void acceptsAndRefusesWhatDatabindDid() {
        String inputs = "\"inputs\":[{\"section\":\"RUNTIME\",\"file\":\"r\",\"size\":1,\"sha384\":\"ab\"}]";
        String base = "\"format\":1,\"name\":\"n\",\"version\":\"v\",\"builder\":\"b\"";
        List<String> texts = List.of(
                "{" + base + "," + inputs + "}",
                "{" + base + "," + inputs + ",\"extra\":{\"a\":[1,2]}}",
                "{" + base + ",\"name\":\"second\"," + inputs + "}",
                "{" + base + ",\"source_date_epoch\":null,\"build_time\":null," + inputs + "}",
                "{" + base + ",\"source_date_epoch\":5," + inputs + "}",
                "{" + base + ",\"inputs\":[{\"section\":\"RUNTIME\",\"unknown\":true}]}",
                "{" + base + ",\"inputs\":[{\"section\":\"RUNTIME\",\"size\":3,\"unknown\":true}]}",
                "{" + base + "," + inputs + "} x",
                "{" + base + "," + inputs,
                "{" + base + ",\"inputs\":{}}",
                "{" + base + ",\"inputs\":null}",
                "{" + base + ",\"inputs\":[null]}",
                "{\"format\":null,\"name\":\"n\",\"version\":\"v\",\"builder\":\"b\"," + inputs + "}",
                "{\"format\":2,\"name\":\"n\",\"version\":\"v\",\"builder\":\"b\"," + inputs + "}",
                "{\"name\":\"n\",\"version\":\"v\",\"builder\":\"b\"," + inputs + "}",
                "{\"format\":1,\"name\":[\"n\"],\"version\":\"v\",\"builder\":\"b\"," + inputs + "}",
                "{\"format\":1,\"name\":{},\"version\":\"v\",\"builder\":\"b\"," + inputs + "}",
                "{\"format\":1,\"name\":\" \",\"version\":\"v\",\"builder\":\"b\"," + inputs + "}",
                "{" + base + ",\"inputs\":[{\"section\":\"RUNTIME\",\"size\":null}]}",
                "{" + base + ",\"inputs\":[{\"section\":\"RUNTIME\",\"size\":[]}]}",
                "{" + base + ",\"source_date_epoch\":{}," + inputs + "}",
                "null",
                "[]",
                "",
                "\"text\"");
        for (String text : texts) {
            boolean oldAccepts = databindAccepts(text);
            boolean newAccepts;
            try {
                ImageMetadata.fromJson(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), "t");
                newAccepts = true;
            } catch (EnclaveException e) {
                assertEquals(ImageErrors.BAD_CONTENT, e.code(), text);
                newAccepts = false;
            }
            assertEquals(oldAccepts, newAccepts, text);
        }
    }

    private static boolean databindAccepts(String text) {
        Old m;
        try {
            m = DATABIND.readValue(text.getBytes(StandardCharsets.UTF_8), Old.class);
        } catch (Exception e) {
            return false;
        }
        return m != null && m.format() == 1 && fine(m.name()) && fine(m.version()) && fine(m.builder())
                && m.inputs() != null && m.inputs().stream().allMatch(i -> i != null && fine(i.section()));
    }

    private static boolean fine(String s) {
        return s != null && !s.isBlank() && s.length() <= 256;
    }
}
