package org.enclaveruntime.config;

/**
 * The effective value of one key and where it came from.
 *
 * @param value the typed value ({@code Long}, {@code Path}, ...), as {@link ConfigKey#type()} parses it
 */
public record Setting(ConfigKey<?> key, Object value, Origin origin) {
    /** The canonical text of the value: "1G", "2-3,6", "10s". */
    public String text() {
        return key.formatValue(value);
    }
}
