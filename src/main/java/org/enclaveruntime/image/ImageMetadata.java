package org.enclaveruntime.image;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.enclaveruntime.errors.EnclaveException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The METADATA section: JSON (UTF-8, one line, keys in the order of the components below, snake_case,
 * absent optional keys omitted) describing how the image was built. Not measured; covered by its
 * section hash and so by the signature.
 *
 * @param sourceDateEpoch SOURCE_DATE_EPOCH at build time, or null: builds are timestamp-free otherwise
 * @param buildTime       the same instant in ISO-8601 UTC, for people; null when sourceDateEpoch is
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ImageMetadata(int format, String name, String version, String builder, Long sourceDateEpoch,
                            String buildTime, List<BuildInput> inputs) {
    static final int FORMAT = 1;
    private static final int MAX_TEXT = 256;

    /** One input of the build: which section it became, the file's base name, its size and SHA-384. */
    public record BuildInput(String section, String file, long size, String sha384) {
    }

    public ImageMetadata {
        inputs = inputs == null ? null : List.copyOf(inputs);
    }

    byte[] toJson() {
        try {
            return Json.MAPPER.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write image metadata as JSON", e);
        }
    }

    static ImageMetadata fromJson(ByteBuffer json, String where) {
        byte[] bytes = new byte[json.remaining()];
        json.duplicate().get(bytes);
        ImageMetadata m;
        try {
            m = Json.MAPPER.readValue(bytes, ImageMetadata.class);
        } catch (IOException | RuntimeException e) {
            // The section hash already matched, so this is a bad writer, not damage; say what Jackson saw.
            throw new EnclaveException(ImageErrors.BAD_CONTENT, where + ": METADATA is not the documented JSON: "
                    + firstLine(e.getMessage()), e);
        }
        if (m == null || m.format != FORMAT || !fine(m.name) || !fine(m.version) || !fine(m.builder)
                || m.inputs == null || m.inputs.stream().anyMatch(i -> i == null || !fine(i.section()))) {
            throw new EnclaveException(ImageErrors.BAD_CONTENT, where + ": METADATA lacks a required key or has "
                    + "an unsupported value (format must be 1; name, version, builder and inputs are required)");
        }
        return m;
    }

    private static boolean fine(String s) {
        return s != null && !s.isBlank() && s.length() <= MAX_TEXT;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper()
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .disable(SerializationFeature.INDENT_OUTPUT)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }
}
