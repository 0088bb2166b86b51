package org.enclaveruntime.config;

import java.util.Objects;
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

    // equals and hashCode are written out: the record's generated ones are linked through method handles
    // (java.lang.runtime.ObjectMethods) when first called, and every command hashes keys while it loads the
    // configuration: that linking was ~20 ms of `status` (docs/performance.md). Same equality as the
    // record's; the hash uses section and name only, which equal keys share.
    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof ConfigKey<?> k && Objects.equals(section, k.section) && Objects.equals(name, k.name)
                && Objects.equals(type, k.type) && Objects.equals(defaultText, k.defaultText)
                && Objects.equals(doc, k.doc);
    }

    @Override
    public int hashCode() {
        return 31 * Objects.hashCode(section) + Objects.hashCode(name);
    }
}
