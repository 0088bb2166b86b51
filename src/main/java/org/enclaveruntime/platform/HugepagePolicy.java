package org.enclaveruntime.platform;

import java.util.Locale;
import java.util.Optional;

/** The `hugepages` setting: which page size backs guest memory. */
public enum HugepagePolicy {
    /** The largest size that fits: 1G when the pool already holds the pages, else 2M, else 4K. */
    AUTO("auto"),
    SIZE_2M("2M"),
    SIZE_1G("1G"),
    /** Ordinary 4K pages, locked in memory. */
    OFF("off");

    private final String text;

    HugepagePolicy(String text) {
        this.text = text;
    }

    public String text() {
        return text;
    }

    /** "auto", "2M", "1G" or "off", case-insensitive; empty for anything else. */
    public static Optional<HugepagePolicy> parse(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        for (HugepagePolicy p : values()) {
            if (p.text.toLowerCase(Locale.ROOT).equals(v)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return text;
    }
}
