package org.enclaveruntime.config;

import java.util.Locale;

/**
 * A size in bytes written with a binary unit: 64M, 1G, 512K (KiB/MiB/GiB too, any case). A bare number is
 * refused, so that nobody has to guess whether "1024" means bytes or MiB; so are KB/MB/GB, which mean
 * powers of 1000 to some readers.
 */
record SizeType(long min, long max, long multipleOf) implements ValueType<Long> {
    static final long K = 1024;
    static final long M = K * K;
    static final long G = M * K;

    @Override
    public Long parse(String text) throws InvalidValueException {
        int end = 0;
        while (end < text.length() && Character.isDigit(text.charAt(end)) && text.charAt(end) < 128) {
            end++;
        }
        String digits = text.substring(0, end);
        String unit = text.substring(end).trim();
        if (digits.isEmpty() || unit.startsWith(".") || unit.startsWith(",")) {
            throw new InvalidValueException(ConfigErrors.MALFORMED_VALUE, InvalidValueException.quote(text)
                    + " is not a size; write a whole number and a unit K, M or G, e.g. 1024M"
                    + (digits.isEmpty() ? "" : " (no fractions: use a smaller unit)"));
        }
        if (unit.isEmpty()) {
            throw new InvalidValueException(ConfigErrors.BAD_UNIT, InvalidValueException.quote(text)
                    + " has no unit; add a unit, e.g. " + digits + "M (units: K, M, G)");
        }
        long factor = switch (unit.toUpperCase(Locale.ROOT)) {
            case "K", "KIB" -> K;
            case "M", "MIB" -> M;
            case "G", "GIB" -> G;
            case "KB", "MB", "GB" -> throw new InvalidValueException(ConfigErrors.BAD_UNIT,
                    InvalidValueException.quote(text) + ": unit '" + unit + "' is ambiguous; write "
                            + digits + unit.charAt(0) + " (units are powers of 1024)");
            default -> throw new InvalidValueException(ConfigErrors.BAD_UNIT, InvalidValueException.quote(text)
                    + ": unknown unit '" + unit + "'; use K, M or G");
        };
        long bytes;
        try {
            bytes = Math.multiplyExact(Long.parseLong(digits), factor);
        } catch (ArithmeticException | NumberFormatException tooBig) {
            throw new InvalidValueException(ConfigErrors.OUT_OF_RANGE, InvalidValueException.quote(text)
                    + " is above the maximum " + format(max));
        }
        if (bytes < min) {
            throw new InvalidValueException(ConfigErrors.OUT_OF_RANGE, InvalidValueException.quote(text)
                    + " is below the minimum " + format(min));
        }
        if (bytes > max) {
            throw new InvalidValueException(ConfigErrors.OUT_OF_RANGE, InvalidValueException.quote(text)
                    + " is above the maximum " + format(max));
        }
        if (bytes % multipleOf != 0) {
            throw new InvalidValueException(ConfigErrors.OUT_OF_RANGE, InvalidValueException.quote(text)
                    + " is not a multiple of " + format(multipleOf));
        }
        return bytes;
    }

    /** The largest unit that divides the size exactly: 1073741824 → 1G, 1536 MiB → 1536M. */
    @Override
    public String format(Long bytes) {
        if (bytes != 0 && bytes % G == 0) {
            return bytes / G + "G";
        }
        if (bytes != 0 && bytes % M == 0) {
            return bytes / M + "M";
        }
        if (bytes % K == 0) {
            return bytes / K + "K";
        }
        return bytes + " bytes";
    }

    @Override
    public String allowed() {
        return "a size with unit K, M or G, " + format(min) + ".." + format(max)
                + (multipleOf > 1 ? ", a multiple of " + format(multipleOf) : "");
    }
}
