package org.enclaveruntime.config;

import java.util.Locale;

/** true/false; yes/no, on/off and 1/0 are accepted as well, in any case, as systemd does. */
record BooleanType() implements ValueType<Boolean> {
    @Override
    public Boolean parse(String text) throws InvalidValueException {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new InvalidValueException(ConfigErrors.BAD_CHOICE, InvalidValueException.quote(text)
                    + " is not a boolean; use true or false (yes/no, on/off, 1/0 also accepted)");
        };
    }

    @Override
    public String format(Boolean value) {
        return value.toString();
    }

    @Override
    public String allowed() {
        return "true or false";
    }
}
