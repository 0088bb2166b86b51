package org.enclaveruntime.config;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * A Linux CPU list ("2-3,6"): numbers and ascending ranges, comma-separated, each CPU once. The result is
 * sorted. Repeats are refused rather than merged: "1-3,2" is most likely a typo for something else.
 */
record CpuListType(int maxId) implements ValueType<List<Integer>> {
    @Override
    public List<Integer> parse(String text) throws InvalidValueException {
        BitSet seen = new BitSet();
        String[] elements = text.split(",", -1);
        for (String raw : elements) {
            String element = raw.trim();
            if (element.isEmpty()) {
                throw bad(text, "empty element in the list (two commas in a row, or a comma at an end)");
            }
            int dash = element.indexOf('-');
            int first = cpu(text, dash < 0 ? element : element.substring(0, dash).trim());
            int last = dash < 0 ? first : cpu(text, element.substring(dash + 1).trim());
            if (last < first) {
                throw bad(text, "range " + element + " runs backwards; write " + last + "-" + first);
            }
            for (int id = first; id <= last; id++) {
                if (seen.get(id)) {
                    throw bad(text, "CPU " + id + " is listed twice");
                }
                seen.set(id);
            }
        }
        List<Integer> ids = new ArrayList<>(seen.cardinality());
        seen.stream().forEach(ids::add);
        return List.copyOf(ids);
    }

    private int cpu(String text, String number) throws InvalidValueException {
        if (!WholeNumberType.isDigits(number) || number.length() > 9) {
            throw bad(text, (number.isEmpty() ? "a range lacks a number" : "'" + number + "' is not a CPU number"));
        }
        int id = Integer.parseInt(number);
        if (id > maxId) {
            throw bad(text, "CPU " + id + " is above the maximum " + maxId);
        }
        return id;
    }

    private static InvalidValueException bad(String text, String why) {
        return new InvalidValueException(ConfigErrors.BAD_CPU_LIST,
                InvalidValueException.quote(text) + " is not a valid CPU list: " + why + " (e.g. 2-3,6)");
    }

    /** Compresses runs back into ranges: [2,3,4,6] → "2-4,6". */
    @Override
    public String format(List<Integer> ids) {
        StringBuilder s = new StringBuilder();
        int i = 0;
        while (i < ids.size()) {
            int j = i;
            while (j + 1 < ids.size() && ids.get(j + 1) == ids.get(j) + 1) {
                j++;
            }
            if (s.length() > 0) {
                s.append(',');
            }
            s.append(ids.get(i));
            if (j > i) {
                s.append('-').append(ids.get(j));
            }
            i = j + 1;
        }
        return s.toString();
    }

    @Override
    public String allowed() {
        return "a CPU list such as 2-3,6 (CPUs 0.." + maxId + ", each once)";
    }
}
