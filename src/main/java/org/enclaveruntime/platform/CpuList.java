package org.enclaveruntime.platform;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * A set of CPU numbers in the kernel's list syntax ("0-3,6,8-9"), as found in sysfs files such as
 * /sys/devices/system/cpu/online and in the cpu_ids configuration key. Always sorted and free of
 * duplicates, so two lists naming the same CPUs are equal.
 *
 * @param cpus the CPU numbers, ascending, each once
 */
public record CpuList(List<Integer> cpus) {
    // In JSON (state file, --output json) a CPU list is a plain array of numbers.
    /** The largest CPU number accepted; Linux x86-64 is configured for at most 8192 (NR_CPUS). */
    public static final int MAX_CPU = 8191;

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public CpuList {
        TreeSet<Integer> sorted = new TreeSet<>();
        for (Integer cpu : cpus) {
            if (cpu == null || cpu < 0 || cpu > MAX_CPU) {
                throw new IllegalArgumentException("CPU number out of range 0-" + MAX_CPU + ": " + cpu);
            }
            sorted.add(cpu);
        }
        cpus = List.copyOf(sorted);
    }

    @Override
    @JsonValue
    public List<Integer> cpus() {
        return cpus;
    }

    public static CpuList of(Collection<Integer> cpus) {
        return new CpuList(List.copyOf(cpus));
    }

    public static CpuList of(Integer... cpus) {
        return new CpuList(List.of(cpus));
    }

    public static CpuList empty() {
        return new CpuList(List.of());
    }

    /**
     * Parses "0-3,6,8-9". An empty or blank text is the empty list (sysfs writes an empty line for an
     * empty mask, e.g. /sys/devices/system/cpu/offline when every CPU is online).
     *
     * @throws IllegalArgumentException naming the part that is wrong; callers add the file or key
     */
    public static CpuList parse(String text) {
        String trimmed = text.strip();
        List<Integer> cpus = new ArrayList<>();
        if (trimmed.isEmpty()) {
            return empty();
        }
        for (String part : trimmed.split(",", -1)) {
            String item = part.strip();
            if (item.isEmpty()) {
                throw new IllegalArgumentException("empty item in CPU list '" + trimmed + "'");
            }
            int dash = item.indexOf('-');
            if (dash < 0) {
                cpus.add(number(item, trimmed));
                continue;
            }
            int first = number(item.substring(0, dash), trimmed);
            int last = number(item.substring(dash + 1), trimmed);
            if (last < first) {
                throw new IllegalArgumentException("range '" + item + "' runs backwards in CPU list '"
                        + trimmed + "'");
            }
            for (int cpu = first; cpu <= last; cpu++) {
                cpus.add(cpu);
            }
        }
        return of(cpus);
    }

    private static int number(String digits, String whole) {
        String d = digits.strip();
        if (d.isEmpty() || !d.chars().allMatch(Character::isDigit) || d.length() > 5) {
            throw new IllegalArgumentException("'" + d + "' is not a CPU number in CPU list '" + whole
                    + "' (expected a list such as 0-3,6,8-9)");
        }
        int n = Integer.parseInt(d);
        if (n > MAX_CPU) {
            throw new IllegalArgumentException("CPU " + n + " in CPU list '" + whole + "' is above " + MAX_CPU);
        }
        return n;
    }

    /** The kernel's compact form: consecutive runs as ranges, "0-3,6,8-9". */
    public String format() {
        StringBuilder s = new StringBuilder();
        int i = 0;
        while (i < cpus.size()) {
            int j = i;
            while (j + 1 < cpus.size() && cpus.get(j + 1) == cpus.get(j) + 1) {
                j++;
            }
            if (s.length() > 0) {
                s.append(',');
            }
            s.append(cpus.get(i));
            if (j > i) {
                // The kernel prints two neighbours as a range too ("0-1"), so do the same.
                s.append('-').append(cpus.get(j));
            }
            i = j + 1;
        }
        return s.toString();
    }

    public boolean contains(int cpu) {
        return cpus.contains(cpu);
    }

    public boolean containsAll(CpuList other) {
        return cpus.containsAll(other.cpus);
    }

    public int size() {
        return cpus.size();
    }

    public boolean isEmpty() {
        return cpus.isEmpty();
    }

    public CpuList union(CpuList other) {
        List<Integer> all = new ArrayList<>(cpus);
        all.addAll(other.cpus);
        return of(all);
    }

    public CpuList minus(CpuList other) {
        List<Integer> rest = new ArrayList<>(cpus);
        rest.removeAll(other.cpus);
        return of(rest);
    }

    public CpuList intersect(CpuList other) {
        List<Integer> both = new ArrayList<>(cpus);
        both.retainAll(other.cpus);
        return of(both);
    }

    @Override
    public String toString() {
        return format();
    }
}
