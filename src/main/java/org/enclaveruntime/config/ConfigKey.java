package org.enclaveruntime.config;

import java.util.Optional;

/**
 * One key of the configuration file: its section and name, how its value is read, its default (as the text
 * a user would write) and one line of documentation. All keys are listed in {@link ConfigKeys}.
 */
public record ConfigKey<T>(String section, String name, ValueType<T> type, Optional<String> defaultText,
                           String doc) {

    static <T> ConfigKey<T> of(String section, String name, ValueType<T> type, String defaultText, String doc) {
        return new ConfigKey<>(section, name, type, Optional.of(defaultText), doc);
    }

    static <T> ConfigKey<T> withoutDefault(String section, String name, ValueType<T> type, String doc) {
        return new ConfigKey<>(section, name, type, Optional.empty(), doc);
    }

    /** "enclave.memory": how `config show` and JSON name the key. */
    public String qualifiedName() {
        return section + "." + name;
    }

    /** The canonical text of a value of this key (the value's type is checked at run time). */
    public String formatValue(Object value) {
        return type.format(cast(value));
    }

    @SuppressWarnings("unchecked")
    T cast(Object value) {
        return (T) value;
    }

    @Override
    public String toString() {
        return qualifiedName();
    }
}
