package org.enclaveruntime.config;

import java.time.Duration;
import java.util.Locale;

/** A duration with a unit: 500ms, 10s, 2m; whole numbers only, the unit is required. */
record DurationType(Duration min, Duration max) implements ValueType<Duration> {
    @Override
    public Duration parse(String text) throws InvalidValueException {
        int end = 0;
        while (end < text.length() && text.charAt(end) >= '0' && text.charAt(end) <= '9') {
            end++;
        }
        String digits = text.substring(0, end);
        String unit = text.substring(end).trim().toLowerCase(Locale.ROOT);
        if (digits.isEmpty() || unit.startsWith(".")) {
            throw new InvalidValueException(ConfigErrors.MALFORMED_VALUE, InvalidValueException.quote(text)
                    + " is not a duration; write a whole number and a unit ms, s or m, e.g. 10s");
        }
        if (unit.isEmpty()) {
            throw new InvalidValueException(ConfigErrors.BAD_UNIT, InvalidValueException.quote(text)
                    + " has no unit; add a unit, e.g. " + digits + "s (units: ms, s, m)");
        }
        Duration value;
        try {
            long n = Long.parseLong(digits);
            value = switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m", "min" -> Duration.ofMinutes(n);
                default -> throw new InvalidValueException(ConfigErrors.BAD_UNIT,
                        InvalidValueException.quote(text) + ": unknown unit '" + unit + "'; use ms, s or m");
            };
        } catch (NumberFormatException | ArithmeticException tooBig) {
            value = max.plusMillis(1);
        }
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new InvalidValueException(ConfigErrors.OUT_OF_RANGE, InvalidValueException.quote(text)
                    + " is out of range (" + format(min) + ".." + format(max) + ")");
        }
        return value;
    }

    @Override
    public String format(Duration value) {
        long ms = value.toMillis();
        if (ms != 0 && ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    @Override
    public String allowed() {
        return "a duration with unit ms, s or m, " + format(min) + ".." + format(max);
    }
}
