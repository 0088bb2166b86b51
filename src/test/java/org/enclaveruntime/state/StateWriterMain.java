package org.enclaveruntime.state;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes state records in a tight loop until killed. Every record is self-consistent: its pid field and
 * all 2,000 measurement values carry the same sequence number, so a torn write would be visible.
 */
public final class StateWriterMain {
    public static void main(String[] args) {
        StateFile file = new StateFile(new RunDirectory(Path.of(args[0])).create());
        for (long seq = 1; ; seq++) {
            Map<String, String> values = new LinkedHashMap<>();
            for (int i = 0; i < 2000; i++) {
                values.put("m" + i, Long.toString(seq));
            }
            file.write(new StateRecord(EnclaveState.RUNNING, seq, 16L, List.of(1), 128L, "4K", "/x", values,
                    null, null, null, null, List.of()));
            if (seq == 1) {
                System.out.println("WRITING");
                System.out.flush();
            }
        }
    }
}
