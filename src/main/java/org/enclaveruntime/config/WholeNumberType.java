package org.enclaveruntime.config;

/** A whole number in [min, max], decimal, without sign or grouping. */
record WholeNumberType(long min, long max) implements ValueType<Long> {
    @Override
    public Long parse(String text) throws InvalidValueException {
        if (!isDigits(text)) {
            throw new InvalidValueException(ConfigErrors.MALFORMED_VALUE,
                    InvalidValueException.quote(text) + " is not a whole number (" + range() + ")");
        }
        long value;
        try {
            value = Long.parseLong(text);
        } catch (NumberFormatException tooLong) {
            throw outOfRange(text);
        }
        if (value < min || value > max) {
            throw outOfRange(text);
        }
        return value;
    }

    private InvalidValueException outOfRange(String text) {
        return new InvalidValueException(ConfigErrors.OUT_OF_RANGE,
                InvalidValueException.quote(text) + " is out of range (" + range() + ")");
    }

    static boolean isDigits(String text) {
        if (text.isEmpty()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private String range() {
        return min + ".." + max;
    }

    @Override
    public String format(Long value) {
        return Long.toString(value);
    }

    @Override
    public String allowed() {
        return "a whole number " + range();
    }
}
