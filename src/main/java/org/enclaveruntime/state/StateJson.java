package org.enclaveruntime.state;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.enclaveruntime.platform.CpusetChange;
import org.enclaveruntime.platform.CpusetJournal;
import org.enclaveruntime.platform.HugepageGrant;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON of {@link StateRecord} (the state file, the VMM's READY report) and {@link EnclaveStatus}
 * (`status --output json`), written and read with Jackson's streaming layer. Jackson databind produced the
 * same text, but building its object mapper and record introspection cost `status` about 0.2 s of a
 * fresh JVM; the streaming layer costs a few milliseconds. Keys are the snake_case names of the record
 * components, in component order, nulls written as null, and unknown keys ignored when reading, exactly as
 * databind did (StateJsonTest compares the two).
 */
public final class StateJson {
    private static final JsonFactory FACTORY = new JsonFactory();

    private StateJson() {
    }

    /** The record as indented JSON, as the state file holds it. */
    public static byte[] toBytes(StateRecord r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator g = FACTORY.createGenerator(out).useDefaultPrettyPrinter()) {
            write(g, r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The record as JSON on one line, for the VMM's line-based report to `start`. */
    public static String toLine(StateRecord r) {
        StringWriter out = new StringWriter(1024);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            write(g, r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** The status as indented JSON, as `status --output json` prints it. */
    public static String toJson(EnclaveStatus s) {
        StringWriter out = new StringWriter(1024);
        try (JsonGenerator g = FACTORY.createGenerator((Writer) out).useDefaultPrettyPrinter()) {
            g.writeStartObject();
            g.writeFieldName("state");
            writeString(g, s.state() == null ? null : s.state().name());
            writeNumber(g, "pid", s.pid());
            writeNumber(g, "cid", s.cid());
            writeInts(g, "cpu_ids", s.cpuIds());
            writeNumber(g, "memory_mib", s.memoryMib());
            writeString(g, "page_size", s.pageSize());
            writeString(g, "image", s.image());
            writeMap(g, "measurements", s.measurements());
            writeString(g, "vsock_socket", s.vsockSocket());
            writeString(g, "console_log", s.consoleLog());
            writeString(g, "started_at", s.startedAt());
            writeNumber(g, "uptime_s", s.uptimeS());
            writeError(g, s.lastError());
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void write(JsonGenerator g, StateRecord r) throws IOException {
        g.writeStartObject();
        g.writeFieldName("state");
        writeString(g, r.state() == null ? null : r.state().name());
        writeNumber(g, "pid", r.pid());
        writeNumber(g, "cid", r.cid());
        writeInts(g, "cpu_ids", r.cpuIds());
        writeNumber(g, "memory_mib", r.memoryMib());
        writeString(g, "page_size", r.pageSize());
        writeString(g, "image", r.image());
        writeMap(g, "measurements", r.measurements());
        writeString(g, "vsock_socket", r.vsockSocket());
        writeString(g, "console_log", r.consoleLog());
        writeString(g, "started_at", r.startedAt());
        writeError(g, r.lastError());
        g.writeFieldName("reserved_hugepages");
        if (r.reservedHugepages() == null) {
            g.writeNull();
        } else {
            g.writeStartArray();
            for (HugepageGrant h : r.reservedHugepages()) {
                g.writeStartObject();
                g.writeNumberField("page_size_bytes", h.pageSizeBytes());
                g.writeNumberField("node", h.node());
                g.writeNumberField("added", h.added());
                writeString(g, "boot_id", h.bootId());
                g.writeEndObject();
            }
            g.writeEndArray();
        }
        writeCpuset(g, r.cpusetIsolation());
        g.writeEndObject();
    }

    /** Each change with a "kind", so that reading it back can tell them apart. */
    private static void writeCpuset(JsonGenerator g, CpusetJournal j) throws IOException {
        g.writeFieldName("cpuset_isolation");
        if (j == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        writeString(g, "boot_id", j.bootId());
        g.writeFieldName("changes");
        g.writeStartArray();
        for (CpusetChange c : j.changes()) {
            g.writeStartObject();
            if (c instanceof CpusetChange.Created x) {
                g.writeStringField("kind", "created");
                g.writeStringField("dir", x.dir());
            } else if (c instanceof CpusetChange.Wrote x) {
                g.writeStringField("kind", "wrote");
                g.writeStringField("file", x.file());
                g.writeStringField("before", x.before());
            } else if (c instanceof CpusetChange.EnabledController x) {
                g.writeStringField("kind", "enabled_controller");
                g.writeStringField("dir", x.dir());
                g.writeStringField("controller", x.controller());
            } else if (c instanceof CpusetChange.MovedThreads x) {
                g.writeStringField("kind", "moved_threads");
                g.writeStringField("from", x.from());
                g.writeStringField("to", x.to());
                g.writeStringField("file", x.file());
            } else if (c instanceof CpusetChange.Pinned x) {
                g.writeStringField("kind", "pinned");
                g.writeNumberField("tid", x.tid());
                g.writeNumberField("start_time", x.startTime());
                g.writeStringField("cpus", x.cpus());
            } else if (c instanceof CpusetChange.MovedProcess x) {
                g.writeStringField("kind", "moved_process");
                g.writeNumberField("pid", x.pid());
                g.writeStringField("mount", x.mount());
                g.writeStringField("from", x.from());
                g.writeStringField("to", x.to());
            }
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void writeString(JsonGenerator g, String name, String value) throws IOException {
        g.writeFieldName(name);
        writeString(g, value);
    }

    private static void writeString(JsonGenerator g, String value) throws IOException {
        if (value == null) {
            g.writeNull();
        } else {
            g.writeString(value);
        }
    }

    private static void writeNumber(JsonGenerator g, String name, Long value) throws IOException {
        g.writeFieldName(name);
        if (value == null) {
            g.writeNull();
        } else {
            g.writeNumber(value);
        }
    }

    private static void writeInts(JsonGenerator g, String name, List<Integer> values) throws IOException {
        g.writeFieldName(name);
        if (values == null) {
            g.writeNull();
            return;
        }
        g.writeStartArray();
        for (Integer v : values) {
            if (v == null) {
                g.writeNull();
            } else {
                g.writeNumber(v);
            }
        }
        g.writeEndArray();
    }

    private static void writeMap(JsonGenerator g, String name, Map<String, String> map) throws IOException {
        g.writeFieldName(name);
        if (map == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        for (Map.Entry<String, String> e : map.entrySet()) {
            writeString(g, e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }

    private static void writeError(JsonGenerator g, ErrorRecord e) throws IOException {
        g.writeFieldName("last_error");
        if (e == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        writeString(g, "code", e.code());
        writeString(g, "message", e.message());
        writeString(g, "at", e.at());
        g.writeEndObject();
    }

    /**
     * Reads a state record. Keys it does not know are skipped (a newer version may add some); a value of
     * the wrong type is an error naming the key.
     *
     * @throws JsonParseException when the text is not JSON or not a state record
     */
    public static StateRecord parse(byte[] json) throws IOException {
        try (JsonParser p = FACTORY.createParser(json)) {
            expect(p, p.nextToken(), JsonToken.START_OBJECT, "the state record");
            EnclaveState state = null;
            Long pid = null;
            Long cid = null;
            List<Integer> cpuIds = null;
            Long memoryMib = null;
            String pageSize = null;
            String image = null;
            Map<String, String> measurements = null;
            String vsockSocket = null;
            String consoleLog = null;
            String startedAt = null;
            ErrorRecord lastError = null;
            List<HugepageGrant> reserved = null;
            CpusetJournal cpuset = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken t = p.nextToken();
                switch (key) {
                    case "state" -> state = state(p, t);
                    case "pid" -> pid = longValue(p, t, key);
                    case "cid" -> cid = longValue(p, t, key);
                    case "cpu_ids" -> cpuIds = ints(p, t, key);
                    case "memory_mib" -> memoryMib = longValue(p, t, key);
                    case "page_size" -> pageSize = string(p, t, key);
                    case "image" -> image = string(p, t, key);
                    case "measurements" -> measurements = strings(p, t, key);
                    case "vsock_socket" -> vsockSocket = string(p, t, key);
                    case "console_log" -> consoleLog = string(p, t, key);
                    case "started_at" -> startedAt = string(p, t, key);
                    case "last_error" -> lastError = error(p, t);
                    case "reserved_hugepages" -> reserved = grants(p, t);
                    case "cpuset_isolation" -> cpuset = cpuset(p, t);
                    default -> p.skipChildren();
                }
            }
            expect(p, p.currentToken(), JsonToken.END_OBJECT, "the end of the state record");
            if (p.nextToken() != null) {
                throw new JsonParseException(p, "trailing content after the state record");
            }
            return new StateRecord(state, pid, cid, cpuIds, memoryMib, pageSize, image, measurements,
                    vsockSocket, consoleLog, startedAt, lastError, reserved, cpuset);
        }
    }

    private static void expect(JsonParser p, JsonToken actual, JsonToken wanted, String what) throws IOException {
        if (actual != wanted) {
            throw new JsonParseException(p, "expected " + what + " (" + wanted.asString() + "), found "
                    + (actual == null ? "the end of the input" : actual));
        }
    }

    private static EnclaveState state(JsonParser p, JsonToken t) throws IOException {
        String name = string(p, t, "state");
        if (name == null) {
            return null;
        }
        try {
            return EnclaveState.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new JsonParseException(p, "state: '" + name + "' is not one of "
                    + java.util.Arrays.toString(EnclaveState.values()));
        }
    }

    private static String string(JsonParser p, JsonToken t, String key) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.VALUE_STRING) {
            throw new JsonParseException(p, key + ": expected a string, found " + t);
        }
        return p.getText();
    }

    private static Long longValue(JsonParser p, JsonToken t, String key) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw new JsonParseException(p, key + ": expected a whole number, found " + t);
        }
        return p.getLongValue();
    }

    private static long requiredLong(JsonParser p, JsonToken t, String key) throws IOException {
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw new JsonParseException(p, key + ": expected a whole number, found " + t);
        }
        return p.getLongValue();
    }

    private static int intValue(JsonParser p, JsonToken t, String key) throws IOException {
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw new JsonParseException(p, key + ": expected a whole number, found " + t);
        }
        return p.getIntValue();
    }

    private static List<Integer> ints(JsonParser p, JsonToken t, String key) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(p, t, JsonToken.START_ARRAY, key);
        List<Integer> values = new ArrayList<>();
        for (JsonToken v; (v = p.nextToken()) != JsonToken.END_ARRAY; ) {
            values.add(v == JsonToken.VALUE_NULL ? null : intValue(p, v, key));
        }
        return Collections.unmodifiableList(values);
    }

    private static Map<String, String> strings(JsonParser p, JsonToken t, String key) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(p, t, JsonToken.START_OBJECT, key);
        Map<String, String> map = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            map.put(name, string(p, p.nextToken(), key + "." + name));
        }
        return Collections.unmodifiableMap(map);
    }

    private static ErrorRecord error(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(p, t, JsonToken.START_OBJECT, "last_error");
        String code = null;
        String message = null;
        String at = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            switch (key) {
                case "code" -> code = string(p, v, "last_error.code");
                case "message" -> message = string(p, v, "last_error.message");
                case "at" -> at = string(p, v, "last_error.at");
                default -> p.skipChildren();
            }
        }
        return new ErrorRecord(code, message, at);
    }

    private static CpusetJournal cpuset(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(p, t, JsonToken.START_OBJECT, "cpuset_isolation");
        String bootId = null;
        List<CpusetChange> changes = new ArrayList<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            switch (key) {
                case "boot_id" -> bootId = string(p, v, "cpuset_isolation.boot_id");
                case "changes" -> {
                    expect(p, v, JsonToken.START_ARRAY, "cpuset_isolation.changes");
                    for (JsonToken c; (c = p.nextToken()) != JsonToken.END_ARRAY; ) {
                        changes.add(change(p, c));
                    }
                }
                default -> p.skipChildren();
            }
        }
        return new CpusetJournal(bootId, changes);
    }

    /** One change; an unknown kind is an error, never skipped: a change left out would never be given back. */
    private static CpusetChange change(JsonParser p, JsonToken t) throws IOException {
        expect(p, t, JsonToken.START_OBJECT, "a cpuset_isolation change");
        Map<String, String> f = new LinkedHashMap<>();
        Map<String, Long> n = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            if (List.of("pid", "tid", "start_time").contains(key)) {
                n.put(key, requiredLong(p, v, "cpuset_isolation.changes." + key));
            } else {
                f.put(key, string(p, v, "cpuset_isolation.changes." + key));
            }
        }
        String kind = String.valueOf(f.get("kind"));
        List<String> required = switch (kind) {
            case "created" -> List.of("dir");
            case "wrote" -> List.of("file", "before");
            case "enabled_controller" -> List.of("dir", "controller");
            case "moved_threads" -> List.of("from", "to", "file");
            case "moved_process" -> List.of("mount", "from", "to");
            case "pinned" -> List.of("cpus");
            default -> throw new JsonParseException(p, "cpuset_isolation: unknown change kind '" + kind + "'");
        };
        for (String key : required) {
            if (f.get(key) == null) {
                throw new JsonParseException(p, "cpuset_isolation: a '" + kind + "' change without " + key);
            }
        }
        for (String key : kind.equals("moved_process") ? List.of("pid") : kind.equals("pinned")
                ? List.of("tid", "start_time") : List.<String>of()) {
            if (n.get(key) == null) {
                throw new JsonParseException(p, "cpuset_isolation: a '" + kind + "' change without " + key);
            }
        }
        return switch (kind) {
            case "created" -> new CpusetChange.Created(f.get("dir"));
            case "wrote" -> new CpusetChange.Wrote(f.get("file"), f.get("before"));
            case "enabled_controller" -> new CpusetChange.EnabledController(f.get("dir"), f.get("controller"));
            case "moved_threads" -> new CpusetChange.MovedThreads(f.get("from"), f.get("to"), f.get("file"));
            case "moved_process" -> new CpusetChange.MovedProcess(n.get("pid"), f.get("mount"), f.get("from"),
                    f.get("to"));
            case "pinned" -> new CpusetChange.Pinned(n.get("tid").intValue(), n.get("start_time"), f.get("cpus"));
            default -> throw new IllegalStateException(kind);
        };
    }

    private static List<HugepageGrant> grants(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(p, t, JsonToken.START_ARRAY, "reserved_hugepages");
        List<HugepageGrant> grants = new ArrayList<>();
        for (JsonToken v; (v = p.nextToken()) != JsonToken.END_ARRAY; ) {
            expect(p, v, JsonToken.START_OBJECT, "a reserved_hugepages entry");
            long pageSizeBytes = 0;
            int node = 0;
            int added = 0;
            String bootId = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken n = p.nextToken();
                switch (key) {
                    case "page_size_bytes" -> pageSizeBytes = requiredLong(p, n, "reserved_hugepages.page_size_bytes");
                    case "node" -> node = intValue(p, n, "reserved_hugepages.node");
                    case "added" -> added = intValue(p, n, "reserved_hugepages.added");
                    case "boot_id" -> bootId = string(p, n, "reserved_hugepages.boot_id");
                    default -> p.skipChildren();
                }
            }
            grants.add(new HugepageGrant(pageSizeBytes, node, added, bootId));
        }
        return Collections.unmodifiableList(grants);
    }
}
