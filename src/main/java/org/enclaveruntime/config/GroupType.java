package org.enclaveruntime.config;

import java.util.regex.Pattern;

/**
 * A Unix group: a name as useradd/groupadd accept it, or a numeric gid. Whether it exists is checked when
 * the socket is made (a group can be created after the configuration was written).
 */
record GroupType() implements ValueType<String> {
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_-]{0,31}\\$?");
    private static final Pattern GID = Pattern.compile("[0-9]{1,10}");

    @Override
    public String parse(String text) throws InvalidValueException {
        if (GID.matcher(text).matches() && Long.parseLong(text) <= 0xFFFF_FFFEL) {
            return text;
        }
        if (!NAME.matcher(text).matches()) {
            throw new InvalidValueException(ConfigErrors.MALFORMED_VALUE, InvalidValueException.quote(text)
                    + " is not a group name or gid; give " + allowed());
        }
        return text;
    }

    @Override
    public String format(String value) {
        return value;
    }

    @Override
    public String allowed() {
        return "a group name (lower case letters, digits, _ and -, at most 32) or a numeric gid";
    }
}
