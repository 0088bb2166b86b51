package org.enclaveruntime.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What `stop` and the clean-up after a crash need from the configuration: run_dir, and log_dir for the log.
 * A configuration that no longer validates (a key edited while the enclave runs) must not keep anyone from
 * stopping the enclave, so when the whole file is refused these two are read from it one line at a time,
 * ignoring every other key, with the built-in default where a key is absent.
 *
 * <p>run_dir itself must be right: an invalid or repeated run_dir is refused with its own error rather than
 * replaced by the default, which could be the run directory of another instance's enclave.
 *
 * @param runDir  the run directory
 * @param logDir  the log directory, or null when it is invalid (log to stderr only)
 * @param invalid why the configuration as a whole was refused; empty when it validates
 */
public record CleanupSettings(Path runDir, Path logDir, Optional<InvalidConfigException> invalid) {

    /**
     * Finds the configuration file as {@link ConfigLoader#load} does and reads run_dir and log_dir from it.
     *
     * @throws InvalidConfigException when run_dir is invalid, repeated or on a line that does not parse
     * @throws org.enclaveruntime.errors.EnclaveException E214/E215 when the file named cannot be read at all
     */
    public static CleanupSettings find(Path explicitFile, Map<String, String> env, Path systemFile) {
        try {
            EnclaveConfig config = ConfigLoader.load(explicitFile, env, ConfigOverrides.NONE, systemFile).config();
            return new CleanupSettings(config.runDir(), config.logDir(), Optional.empty());
        } catch (InvalidConfigException refused) {
            if (!(ConfigLoader.locate(explicitFile, env, systemFile) instanceof ConfigSource.File file)) {
                throw refused; // the built-in defaults are valid; whatever was refused is not in a file
            }
            String text = ConfigLoader.readText(file.path());
            String label = file.path().toString();
            Path runDir = scan(label, text, ConfigKeys.RUN_DIR).orElseGet(() -> defaultOf(ConfigKeys.RUN_DIR));
            Path logDir;
            try {
                logDir = scan(label, text, ConfigKeys.LOG_DIR).orElseGet(() -> defaultOf(ConfigKeys.LOG_DIR));
            } catch (InvalidConfigException badLogDir) {
                logDir = null;
            }
            return new CleanupSettings(runDir, logDir, Optional.of(refused));
        }
    }

    /**
     * The value of {@code key} as the file gives it, read the way ini4j splits lines (first '=' or ':'), with
     * the section it is under; empty when the file does not give it.
     */
    static Optional<Path> scan(String label, String text, ConfigKey<Path> key) {
        String section = null;
        List<IniDocumentReader.SourceLine> found = new ArrayList<>();
        for (IniDocumentReader.SourceLine line : IniDocumentReader.significantLines(text)) {
            String t = line.text();
            if (t.startsWith("[")) {
                int close = t.indexOf(']');
                section = close < 0 ? null : t.substring(1, close).trim();
            } else if (key.section().equals(section) && keyOf(t).equals(key.name())) {
                found.add(line);
            }
        }
        if (found.isEmpty()) {
            return Optional.empty();
        }
        IniDocumentReader.SourceLine first = found.get(0);
        String where = label + ":" + first.number() + ": " + key.name() + ": ";
        String why = "; `stop` needs " + key.name() + " and uses no other directory in its place";
        if (found.size() > 1) {
            throw refuse(ConfigErrors.DUPLICATE_KEY, found.get(1).number(), label + ":" + found.get(1).number()
                    + ": " + key.name() + ": key given twice, first on line " + first.number() + why);
        }
        int operator = IniDocumentReader.operatorIndex(first.text());
        if (operator < 0) {
            throw refuse(ConfigErrors.SYNTAX, first.number(), where + "'" + first.text() + "' is not 'key = value'" + why);
        }
        String value = ConfigLoader.withoutComment(first.text().substring(operator + 1));
        if (value.isEmpty()) {
            throw refuse(ConfigErrors.EMPTY_VALUE, first.number(), where + "empty value" + why);
        }
        try {
            return Optional.of(key.type().parse(value));
        } catch (InvalidValueException e) {
            throw refuse(e.code(), first.number(), where + e.getMessage() + why);
        }
    }

    private static String keyOf(String line) {
        int operator = IniDocumentReader.operatorIndex(line);
        return (operator < 0 ? line : line.substring(0, operator)).trim();
    }

    private static InvalidConfigException refuse(org.enclaveruntime.errors.ErrorCode code, int line, String message) {
        return new InvalidConfigException(List.of(new ConfigProblem(code, line, message)));
    }

    private static Path defaultOf(ConfigKey<Path> key) {
        try {
            return key.type().parse(key.defaultText().orElseThrow());
        } catch (InvalidValueException e) {
            throw new IllegalStateException("built-in default of " + key + " is invalid", e);
        }
    }
}
