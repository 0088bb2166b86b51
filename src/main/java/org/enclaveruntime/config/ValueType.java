package org.enclaveruntime.config;

/**
 * How the text of one configuration value becomes a typed value, and back. The text given to
 * {@link #parse} is already trimmed, stripped of an inline comment and not empty.
 */
public interface ValueType<T> {
    /** @throws InvalidValueException naming the value and what is allowed instead */
    T parse(String text) throws InvalidValueException;

    /** The canonical text of a value, as `config show` prints it; parsing it gives the value back. */
    String format(T value);

    /** What is allowed, for messages and documentation: "a whole number 1..256". */
    String allowed();
}
