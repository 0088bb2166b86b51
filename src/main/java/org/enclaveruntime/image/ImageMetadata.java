package org.enclaveruntime.image;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import org.enclaveruntime.errors.EnclaveException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The METADATA section: JSON (UTF-8, one line, keys in the order of the components below, snake_case,
 * absent optional keys omitted) describing how the image was built, written and read as
 * docs/image-format.md says (ImageMetadataFormatTest holds the two to that page). Not measured; covered by
 * its section hash and so by the signature.
 *
 * @param sourceDateEpoch SOURCE_DATE_EPOCH at build time, or null: builds are timestamp-free otherwise
 * @param buildTime       the same instant in ISO-8601 UTC, for people; null when sourceDateEpoch is
 *
 * <p>Written and read with Jackson's streaming layer: databind's start-up cost every `start` (the VMM reads
 * the image) tens of milliseconds.
 */
public record ImageMetadata(int format, String name, String version, String builder, Long sourceDateEpoch,
                            String buildTime, List<BuildInput> inputs) {
    static final int FORMAT = 1;
    private static final int MAX_TEXT = 256;

    /** One input of the build: which section it became, the file's base name, its size and SHA-384. */
    public record BuildInput(String section, String file, long size, String sha384) {
        private static final Pattern SHA384_HEX = Pattern.compile("[0-9a-f]{96}");

        /** The first rule of docs/image-format.md this input breaks, or null. */
        private String problem() {
            SectionType type = Arrays.stream(SectionType.values()).filter(t -> t.boots() && t.name().equals(section))
                    .findFirst().orElse(null);
            if (type == null) {
                return "has section " + section + ", not one of RUNTIME, KERNEL, CMDLINE, INITRD";
            }
            if (type == SectionType.CMDLINE ? file != null : !fine(file) || file.contains("/")) {
                return "(" + section + ") has file " + file + (type == SectionType.CMDLINE ? "; a CMDLINE has none"
                        : "; it must be the input's base name: non-blank, no '/', at most " + MAX_TEXT + " characters");
            }
            if (size < 1) {
                return "(" + section + ") has size " + size + "; at least 1";
            }
            if (sha384 == null || !SHA384_HEX.matcher(sha384).matches()) {
                return "(" + section + ") has sha384 " + sha384 + "; 96 lower-case hex digits";
            }
            return null;
        }
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

    // docs/image-format.md: an input's file is absent when it has none (CMDLINE), never null.
    private static void writeInput(JsonGenerator g, BuildInput in) throws IOException {
        g.writeStartObject();
        g.writeStringField("section", in.section());
        writeIfSet(g, "file", in.file());
        g.writeNumberField("size", in.size());
        g.writeStringField("sha384", in.sha384());
        g.writeEndObject();
    }

    /**
     * Reads METADATA and checks it by the rules of docs/image-format.md that need only the JSON; {@link
     * #requireInputsMatch} checks the rest against the section table.
     */
    static ImageMetadata fromJson(ByteBuffer json, String where) {
        byte[] bytes = new byte[json.remaining()];
        json.duplicate().get(bytes);
        ImageMetadata m;
        try {
            m = parse(bytes);
        } catch (IOException | RuntimeException e) {
            // The section hash already matched, so this is a bad writer, not damage; say what the parser saw.
            throw invalid(where, "is not the documented JSON: " + firstLine(e.getMessage()), e);
        }
        String problem = m == null ? "is null, not an object" : m.problem();
        if (problem != null) {
            throw invalid(where, problem, null);
        }
        return m;
    }

    /** The first rule of docs/image-format.md this metadata breaks, or null. */
    private String problem() {
        if (format != FORMAT) {
            return "has format " + format + "; format must be 1";
        }
        if (!fine(name) || !fine(version) || !fine(builder)) {
            return "lacks a required key or has an unsupported value (name, version and builder must be "
                    + "non-blank strings of at most " + MAX_TEXT + " characters)";
        }
        if ((sourceDateEpoch == null) != (buildTime == null)) {
            return "has " + (sourceDateEpoch == null ? "build_time without source_date_epoch"
                    : "source_date_epoch without build_time") + "; both or neither";
        }
        if (sourceDateEpoch != null && (sourceDateEpoch < 0 || sourceDateEpoch > Instant.MAX.getEpochSecond()
                || !Instant.ofEpochSecond(sourceDateEpoch).toString().equals(buildTime))) {
            return "has build_time " + buildTime + " that is not source_date_epoch " + sourceDateEpoch
                    + " in ISO-8601 UTC";
        }
        if (inputs == null) {
            return "lacks a required key or has an unsupported value (inputs is required)";
        }
        for (int i = 0; i < inputs.size(); i++) {
            String p = inputs.get(i).problem();
            if (p != null) {
                return "inputs[" + i + "] " + p;
            }
        }
        return null;
    }

    /**
     * Requires one input per boot section of the image, in table order, each with the section's size and
     * SHA-384 (docs/image-format.md): what METADATA says was built is what the image holds.
     */
    void requireInputsMatch(List<ImageSection> bootSections, String where) {
        if (inputs.size() != bootSections.size()) {
            throw invalid(where, "lists " + inputs.size() + " inputs for " + bootSections.size() + " boot sections",
                    null);
        }
        for (int i = 0; i < inputs.size(); i++) {
            BuildInput in = inputs.get(i);
            ImageSection s = bootSections.get(i);
            boolean same = in.section().equals(s.type().name()) && in.size() == s.size()
                    && in.sha384().equals(s.sha384().hex());
            if (!same) {
                throw invalid(where, "inputs[" + i + "] (" + in.section() + ", " + in.size() + " bytes) does not "
                        + "describe section " + i + " (" + s.type() + ", " + s.size() + " bytes, its SHA-384)", null);
            }
        }
    }

    private static EnclaveException invalid(String where, String problem, Exception cause) {
        return new EnclaveException(ImageErrors.BAD_CONTENT, where + ": METADATA " + problem, cause);
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

    // A repeated key would let two readers of one image see different values: refused, not "last wins".
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /**
     * Reads the object: unknown keys are skipped, a null value counts as absent, a repeated key and anything
     * after the object are errors, and text values must be JSON strings.
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
            if (section == null || size == null) {
                throw new JsonParseException(p, "inputs." + (section == null ? "section" : "size") + ": missing");
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

    private static String text(JsonParser p, JsonToken t, String key) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.VALUE_STRING) {
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
