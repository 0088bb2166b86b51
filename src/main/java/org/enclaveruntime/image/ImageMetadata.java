package org.enclaveruntime.image;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.enclaveruntime.errors.EnclaveException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The METADATA section: JSON (UTF-8, one line, keys in the order of the components below, snake_case,
 * absent optional keys omitted) describing how the image was built. Not measured; covered by its
 * section hash and so by the signature.
 *
 * @param sourceDateEpoch SOURCE_DATE_EPOCH at build time, or null: builds are timestamp-free otherwise
 * @param buildTime       the same instant in ISO-8601 UTC, for people; null when sourceDateEpoch is
 *
 * <p>Written and read with Jackson's streaming layer: databind produced the same bytes but its start-up
 * cost every `start` (the VMM reads the image) tens of milliseconds. ImageMetadataJsonTest compares the
 * two, so that builds keep their bytes and hashes.
 */
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
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("format", format);
            writeIfSet(g, "name", name);
            writeIfSet(g, "version", version);
            writeIfSet(g, "builder", builder);
            if (sourceDateEpoch != null) {
                g.writeNumberField("source_date_epoch", sourceDateEpoch);
            }
            writeIfSet(g, "build_time", buildTime);
            if (inputs != null) {
                g.writeArrayFieldStart("inputs");
                for (BuildInput in : inputs) {
                    writeInput(g, in);
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("cannot write image metadata as JSON", e);
        }
        return out.toByteArray();
    }

    private static void writeIfSet(JsonGenerator g, String key, String value) throws IOException {
        if (value != null) {
            g.writeStringField(key, value);
        }
    }

    // Inputs always carry every key, null or not, as databind wrote them (only the top level omitted nulls).
    private static void writeInput(JsonGenerator g, BuildInput in) throws IOException {
        if (in == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        g.writeFieldName("section");
        writeNullable(g, in.section());
        g.writeFieldName("file");
        writeNullable(g, in.file());
        g.writeNumberField("size", in.size());
        g.writeFieldName("sha384");
        writeNullable(g, in.sha384());
        g.writeEndObject();
    }

    private static void writeNullable(JsonGenerator g, String value) throws IOException {
        if (value == null) {
            g.writeNull();
        } else {
            g.writeString(value);
        }
    }

    static ImageMetadata fromJson(ByteBuffer json, String where) {
        byte[] bytes = new byte[json.remaining()];
        json.duplicate().get(bytes);
        ImageMetadata m;
        try {
            m = parse(bytes);
        } catch (IOException | RuntimeException e) {
            // The section hash already matched, so this is a bad writer, not damage; say what the parser saw.
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

    private static final JsonFactory FACTORY = new JsonFactory();

    /**
     * Reads the object; like databind before: unknown keys are skipped, a repeated key's last value wins,
     * a null top-level document gives null, and anything after the object is an error.
     */
    private static ImageMetadata parse(byte[] bytes) throws IOException {
        try (JsonParser p = FACTORY.createParser(bytes)) {
            JsonToken first = p.nextToken();
            if (first == JsonToken.VALUE_NULL) {
                trailing(p);
                return null;
            }
            expect(p, first, JsonToken.START_OBJECT, "the metadata object");
            Integer format = null;
            String name = null;
            String version = null;
            String builder = null;
            Long sourceDateEpoch = null;
            String buildTime = null;
            List<BuildInput> inputs = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken t = p.nextToken();
                switch (key) {
                    case "format" -> format = requiredInt(p, t, key);
                    case "name" -> name = text(p, t, key);
                    case "version" -> version = text(p, t, key);
                    case "builder" -> builder = text(p, t, key);
                    case "source_date_epoch" -> sourceDateEpoch = t == JsonToken.VALUE_NULL ? null
                            : requiredLong(p, t, key);
                    case "build_time" -> buildTime = text(p, t, key);
                    case "inputs" -> inputs = inputs(p, t);
                    default -> p.skipChildren();
                }
            }
            expect(p, p.currentToken(), JsonToken.END_OBJECT, "the end of the metadata object");
            trailing(p);
            if (format == null) {
                throw new JsonParseException(p, "format: missing");
            }
            return new ImageMetadata(format, name, version, builder, sourceDateEpoch, buildTime, inputs);
        }
    }

    private static void trailing(JsonParser p) throws IOException {
        JsonToken t = p.nextToken();
        if (t != null) {
            throw new JsonParseException(p, "trailing token (" + t + ") after the metadata object");
        }
    }

    private static List<BuildInput> inputs(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(p, t, JsonToken.START_ARRAY, "inputs");
        List<BuildInput> inputs = new ArrayList<>();
        for (JsonToken v; (v = p.nextToken()) != JsonToken.END_ARRAY; ) {
            if (v == JsonToken.VALUE_NULL) {
                inputs.add(null);
                continue;
            }
            expect(p, v, JsonToken.START_OBJECT, "an inputs entry");
            String section = null;
            String file = null;
            Long size = null;
            String sha384 = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken n = p.nextToken();
                switch (key) {
                    case "section" -> section = text(p, n, "inputs.section");
                    case "file" -> file = text(p, n, "inputs.file");
                    case "size" -> size = requiredLong(p, n, "inputs.size");
                    case "sha384" -> sha384 = text(p, n, "inputs.sha384");
                    default -> p.skipChildren();
                }
            }
            expect(p, p.currentToken(), JsonToken.END_OBJECT, "the end of an inputs entry");
            if (size == null) {
                // databind (FAIL_ON_NULL_FOR_PRIMITIVES) refused a missing primitive as it refused a null one
                throw new JsonParseException(p, "inputs.size: missing");
            }
            inputs.add(new BuildInput(section, file, size, sha384));
        }
        return inputs;
    }

    private static void expect(JsonParser p, JsonToken actual, JsonToken wanted, String what) throws IOException {
        if (actual != wanted) {
            throw new JsonParseException(p, "expected " + what + " (" + wanted.asString() + "), found "
                    + (actual == null ? "the end of the input" : actual));
        }
    }

    // Scalars become text as databind coerced them; objects and arrays are refused.
    private static String text(JsonParser p, JsonToken t, String key) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t == null || !t.isScalarValue()) {
            throw new JsonParseException(p, key + ": expected a string, found " + t);
        }
        return p.getText();
    }

    private static int requiredInt(JsonParser p, JsonToken t, String key) throws IOException {
        long v = requiredLong(p, t, key);
        if (v != (int) v) {
            throw new JsonParseException(p, key + ": " + v + " is out of range");
        }
        return (int) v;
    }

    private static long requiredLong(JsonParser p, JsonToken t, String key) throws IOException {
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw new JsonParseException(p, key + ": expected a whole number, found " + t);
        }
        return p.getLongValue();
    }
}
