package org.enclaveruntime.state;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.enclaveruntime.platform.HugepageGrant;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The streaming codec against Jackson databind, which wrote the state file and the status JSON before:
 * byte for byte the same text, and the same records read back, so files and scripts from before still work.
 */
class StateJsonTest {
    /** How StateFile and `--output json` configured databind. */
    private static final ObjectMapper DATABIND = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private static List<StateRecord> records() {
        Map<String, String> measurements = new LinkedHashMap<>();
        measurements.put("pcr0", "3b97ab");
        measurements.put("pcr8", "00");
        List<StateRecord> records = new ArrayList<>();
        records.add(new StateRecord(EnclaveState.RUNNING, 4242L, 16L, List.of(1, 3), 128L, "4K", "/img/demo.bin",
                measurements, "/run/enclave/vsock.sock", "/var/log/enclave/console.log",
                "2026-11-23T09:00:00.123456Z", null, List.of()));
        records.add(new StateRecord(EnclaveState.CRASHED, Long.MAX_VALUE, 4294967294L, List.of(0), 1L << 40, "1G",
                "/päth/with \"quotes\" and \\ and\ttab", Map.of(), null, null, null,
                new ErrorRecord("E305", "line one\nline two \u0001 \u00e9 \u20ac", "2026-11-23T09:00:00Z"),
                List.of(new HugepageGrant(2L << 20, -1, 128, "c6a06662-525e-4a19-b7ec-7e5a0992de34"),
                        new HugepageGrant(1L << 30, 1, 2, null))));
        records.add(StateRecord.stopped(null));
        records.add(StateRecord.stopped(ErrorRecord.of("E401", "no /dev/kvm")));
        records.add(new StateRecord(null, null, null, null, null, null, null, null, null, null, null, null, null));
        return records;
    }

    @Test
    void writesWhatDatabindWrote() throws JsonProcessingException {
        for (StateRecord r : records()) {
            assertEquals(DATABIND.writeValueAsString(r), new String(StateJson.toBytes(r), StandardCharsets.UTF_8));
            assertEquals(-1, StateJson.toLine(r).indexOf('\n'), "one line");
        }
    }

    @Test
    void statusJsonIsWhatDatabindWrote() throws JsonProcessingException {
        for (StateRecord r : records()) {
            EnclaveStatus s = new EnclaveStatus(r.state(), r.pid(), r.cid(), r.cpuIds(), r.memoryMib(),
                    r.pageSize(), r.image(), r.measurements(), r.vsockSocket(), r.consoleLog(), r.startedAt(),
                    r.pid() == null ? null : 12345L, r.lastError());
            assertEquals(DATABIND.writeValueAsString(s), StateJson.toJson(s));
        }
    }

    @Test
    void readsWhatDatabindWrote() throws Exception {
        for (StateRecord r : records()) {
            byte[] written = DATABIND.writeValueAsBytes(r);
            assertEquals(DATABIND.readValue(written, StateRecord.class), StateJson.parse(written));
            assertEquals(r, StateJson.parse(StateJson.toBytes(r)));
            assertEquals(r, StateJson.parse(StateJson.toLine(r).getBytes(StandardCharsets.UTF_8)));
        }
    }

    @Test
    void unknownKeysAreSkippedMissingOnesAreNull() throws Exception {
        String json = "{\"future\": {\"a\": [1, {\"b\": null}]}, \"state\": \"STOPPED\", \"extra\": 3,"
                + " \"last_error\": {\"code\": \"E1\", \"later\": true}}";
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        assertEquals(DATABIND.readValue(bytes, StateRecord.class), StateJson.parse(bytes));
    }

    @Test
    void wrongTypesAndDamageAreErrorsNamingTheKey() {
        for (String bad : List.of("{\"state\": \"RUNN", "{\"state\": \"DANCING\"}", "{\"pid\": \"42\"}",
                "{\"cpu_ids\": [1, \"x\"]}", "[]", "", "{\"state\": \"STOPPED\"} {}",
                "{\"reserved_hugepages\": [{\"node\": \"a\"}]}")) {
            JsonProcessingException e = assertThrows(JsonProcessingException.class,
                    () -> StateJson.parse(bad.getBytes(StandardCharsets.UTF_8)), bad);
            assertTrue(e.getOriginalMessage() != null && !e.getOriginalMessage().isBlank(), bad);
        }
        JsonProcessingException e = assertThrows(JsonProcessingException.class,
                () -> StateJson.parse("{\"pid\": \"42\"}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getOriginalMessage().contains("pid"), e.getOriginalMessage());
    }
}
