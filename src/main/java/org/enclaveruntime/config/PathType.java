package org.enclaveruntime.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** An absolute path, taken literally (no quotes, no ~, no variables). */
record PathType() implements ValueType<Path> {
    @Override
    public Path parse(String text) throws InvalidValueException {
        if (!text.startsWith("/")) {
            String hint = text.startsWith("\"") || text.startsWith("'") ? "; values take no quotes"
                    : text.startsWith("~") ? "; ~ is not expanded" : "";
            throw new InvalidValueException(ConfigErrors.RELATIVE_PATH, InvalidValueException.quote(text)
                    + " is not an absolute path; give a path starting with /" + hint);
        }
        try {
            return Path.of(text).normalize();
        } catch (InvalidPathException e) {
            throw new InvalidValueException(ConfigErrors.RELATIVE_PATH,
                    InvalidValueException.quote(text) + " is not a valid path: " + e.getReason());
        }
    }

    @Override
    public String format(Path value) {
        return value.toString();
    }

    @Override
    public String allowed() {
        return "an absolute path";
    }
}
