package org.enclaveruntime.config;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.IoReason;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Finds, reads and checks the configuration. The file is, in this order: the one given with --config, the
 * one named by $ENCLAVE_CONF, /etc/enclave.conf if it exists; with none, the built-in defaults apply.
 * Command-line values then replace the file's. Every problem found is reported at once, in one
 * {@link InvalidConfigException}; only a syntax error stops reading early.
 */
public final class ConfigLoader {
    public static final Path SYSTEM_FILE = Path.of("/etc/enclave.conf");
    public static final String ENV_VARIABLE = "ENCLAVE_CONF";

    private ConfigLoader() {
    }

    /** {@link #load(Path, Map, ConfigOverrides, Path)} with the system file /etc/enclave.conf. */
    public static LoadedConfig load(Path explicitFile, Map<String, String> env, ConfigOverrides overrides) {
        return load(explicitFile, env, overrides, SYSTEM_FILE);
    }

    /**
     * @param explicitFile the --config file, or null
     * @param env          the environment (System.getenv() outside tests)
     * @param systemFile   the file read when neither --config nor $ENCLAVE_CONF names one, if it exists
     * @throws InvalidConfigException listing every problem, or EnclaveException E214/E215 for a file that
     *                                cannot be read
     */
    public static LoadedConfig load(Path explicitFile, Map<String, String> env, ConfigOverrides overrides,
                                    Path systemFile) {
        ConfigSource source = locate(explicitFile, env, systemFile);
        List<ConfigProblem> problems = new ArrayList<>();
        Layer fromFile = source instanceof ConfigSource.File file
                ? fromDocument(IniDocumentReader.read(file.path().toString(), readText(file.path())), problems)
                : new Layer();
        Layer fromFlags = fromOverrides(overrides, problems);

        Map<ConfigKey<?>, Setting> effective = defaults();
        fromFile.applyTo(effective);
        fromFlags.applyTo(effective);
        checkRequirements(effective, List.of(fromFile, fromFlags), problems);
        if (!problems.isEmpty()) {
            problems.sort(Comparator.comparingInt(p -> p.line() == 0 ? Integer.MAX_VALUE : p.line()));
            throw new InvalidConfigException(problems);
        }
        Map<ConfigKey<?>, Setting> ordered = new LinkedHashMap<>();
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            if (effective.containsKey(key)) {
                ordered.put(key, effective.get(key));
            }
        }
        return new LoadedConfig(EnclaveConfig.from(ordered), source, ordered);
    }

    /** The configuration with no file and no flags: every key at its documented default. */
    public static EnclaveConfig builtInDefaults() {
        return EnclaveConfig.from(defaults());
    }

    static ConfigSource locate(Path explicitFile, Map<String, String> env, Path systemFile) {
        if (explicitFile != null) {
            return explicitlyNamed(explicitFile, ConfigSource.Reason.CONFIG_OPTION);
        }
        String fromEnv = env.get(ENV_VARIABLE);
        // An empty variable (ENCLAVE_CONF= enclavectl ...) is how a shell unsets it for one command.
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return explicitlyNamed(Path.of(fromEnv), ConfigSource.Reason.ENVIRONMENT);
        }
        return Files.exists(systemFile) ? new ConfigSource.File(systemFile, ConfigSource.Reason.DEFAULT_LOCATION)
                : new ConfigSource.BuiltInDefaults(systemFile);
    }

    private static ConfigSource explicitlyNamed(Path file, ConfigSource.Reason reason) {
        if (!Files.exists(file)) {
            throw new EnclaveException(ConfigErrors.FILE_NOT_FOUND,
                    file + ": no such configuration file (given by " + reason.label() + ")");
        }
        return new ConfigSource.File(file, reason);
    }

    static String readText(Path file) {
        byte[] bytes;
        try {
            if (Files.isDirectory(file)) {
                throw new EnclaveException(ConfigErrors.FILE_UNREADABLE, file + ": is a directory, not a file");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new EnclaveException(ConfigErrors.FILE_NOT_FOUND, file + ": no such configuration file", e);
        } catch (AccessDeniedException e) {
            throw new EnclaveException(ConfigErrors.FILE_UNREADABLE, file + ": permission denied", e);
        } catch (IOException e) {
            throw new EnclaveException(ConfigErrors.FILE_UNREADABLE, file + ": cannot be read: " + IoReason.of(e), e);
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            throw new EnclaveException(ConfigErrors.FILE_UNREADABLE, file + ": is not UTF-8 text", e);
        }
    }

    /** Checks sections and keys of a parsed file and reads each value. */
    private static Layer fromDocument(IniDocument doc, List<ConfigProblem> problems) {
        String file = doc.fileLabel();
        Map<String, Integer> sectionLines = new HashMap<>();
        Layer layer = new Layer();
        for (IniDocument.Section section : doc.sections()) {
            String header = "[" + section.name() + "]";
            if (!ConfigKeys.SECTIONS.contains(section.name())) {
                String hint = DidYouMean.nearest(section.name(), ConfigKeys.SECTIONS)
                        .map(s -> "did you mean [" + s + "]?").orElse("sections are " + sectionList());
                problems.add(new ConfigProblem(ConfigErrors.UNKNOWN_SECTION, section.line(),
                        file + ":" + section.line() + ": " + header + ": unknown section; " + hint));
                continue;
            }
            Integer firstLine = sectionLines.putIfAbsent(section.name(), section.line());
            if (firstLine != null) {
                problems.add(new ConfigProblem(ConfigErrors.DUPLICATE_SECTION, section.line(),
                        file + ":" + section.line() + ": " + header + ": section given twice, first on line "
                                + firstLine + "; put all its keys under one header"));
            }
            for (IniDocument.Entry entry : section.entries()) {
                Origin origin = new Origin.FileLine(file, entry.line());
                Optional<ConfigKey<?>> known = ConfigKeys.find(section.name(), entry.key());
                if (known.isEmpty()) {
                    problems.add(unknownKey(origin, section.name(), entry));
                    continue;
                }
                ConfigKey<?> key = known.get();
                Origin earlier = layer.given.get(key);
                if (earlier != null) {
                    problems.add(new ConfigProblem(ConfigErrors.DUPLICATE_KEY, entry.line(), origin.locate(key)
                            + ": key given twice, first on line " + ((Origin.FileLine) earlier).line()
                            + "; keep one of the two"));
                    continue;
                }
                layer.add(key, withoutComment(entry.value()), origin, entry.line(), problems);
            }
        }
        checkAlternatives(layer, problems);
        return layer;
    }

    private static ConfigProblem unknownKey(Origin origin, String section, IniDocument.Entry entry) {
        String name = entry.key();
        String where = origin + ": " + name + ": unknown key in [" + section + "]; ";
        Optional<ConfigKey<?>> elsewhere = ConfigKeys.ALL.stream().filter(k -> k.name().equals(name)).findFirst();
        String hint;
        if (elsewhere.isPresent()) {
            hint = "it belongs in [" + elsewhere.get().section() + "]";
        } else {
            List<String> names = ConfigKeys.ALL.stream().filter(k -> k.section().equals(section))
                    .map(ConfigKey::name).toList();
            hint = DidYouMean.nearest(name, names).map(n -> "did you mean " + n + "?")
                    .orElse("keys of [" + section + "] are " + String.join(", ", names));
        }
        return new ConfigProblem(ConfigErrors.UNKNOWN_KEY, entry.line(), where + hint);
    }

    /**
     * Values may end with a comment: "2 ; two CPUs". A ; or # starts a comment when it begins the value or
     * follows white space, so "a#b" stays a value (a path may contain #).
     */
    static String withoutComment(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c == ';' || c == '#') && (i == 0 || Character.isWhitespace(value.charAt(i - 1)))) {
                return value.substring(0, i).trim();
            }
        }
        return value.trim();
    }

    /**
     * One flag's value read by its key's rules, for a command that takes the flag without loading a
     * configuration (`image build --memory`): the same code, wording and exit status as the flag on `start`.
     */
    public static <T> T flagValue(ConfigKey<T> key, String flag, String text) {
        List<ConfigProblem> problems = new ArrayList<>();
        Layer layer = new Layer();
        layer.add(key, text.trim(), new Origin.Flag(flag), 0, problems);
        if (!problems.isEmpty()) {
            throw new InvalidConfigException(problems);
        }
        @SuppressWarnings("unchecked")
        T value = (T) layer.accepted.get(key).value();
        return value;
    }

    private static Layer fromOverrides(ConfigOverrides overrides, List<ConfigProblem> problems) {
        Layer layer = new Layer();
        for (ConfigOverrides.Entry entry : overrides.entries()) {
            layer.add(entry.key(), entry.text(), new Origin.Flag(entry.flag()), 0, problems);
        }
        checkAlternatives(layer, problems);
        return layer;
    }

    /** Two alternatives given in the same place (both in the file, or both as flags) contradict. */
    private static void checkAlternatives(Layer layer, List<ConfigProblem> problems) {
        for (List<ConfigKey<?>> group : ConfigKeys.ALTERNATIVES) {
            List<ConfigKey<?>> given = group.stream().filter(layer.given::containsKey).toList();
            if (given.size() > 1) {
                ConfigKey<?> second = given.get(1);
                Origin at = layer.given.get(second);
                String others = given.stream().filter(k -> k != second)
                        .map(k -> name(k, layer.given.get(k)) + " (" + layer.given.get(k) + ")")
                        .collect(Collectors.joining(", "));
                int line = at instanceof Origin.FileLine f ? f.line() : 0;
                problems.add(new ConfigProblem(ConfigErrors.CONFLICTING_KEYS, line, at.locate(second)
                        + ": cannot be combined with " + others + "; give only one of "
                        + group.stream().map(ConfigKey::name).collect(Collectors.joining(" and "))));
            }
        }
    }

    private static String name(ConfigKey<?> key, Origin origin) {
        return origin instanceof Origin.Flag f ? f.flag() : key.name();
    }

    private static Map<ConfigKey<?>, Setting> defaults() {
        Map<ConfigKey<?>, Setting> settings = new HashMap<>();
        Origin builtIn = new Origin.BuiltIn();
        for (ConfigKey<?> key : ConfigKeys.ALL) {
            key.defaultText().ifPresent(text -> {
                try {
                    settings.put(key, new Setting(key, key.type().parse(text), builtIn));
                } catch (InvalidValueException e) {
                    throw new IllegalStateException("built-in default of " + key + " is invalid: " + e.getMessage());
                }
            });
        }
        return settings;
    }

    /** A key given with a refused value counts as given: a bad trusted_cert is not also reported missing. */
    private static void checkRequirements(Map<ConfigKey<?>, Setting> effective, List<Layer> layers,
                                          List<ConfigProblem> problems) {
        for (ConfigKeys.Requirement rule : ConfigKeys.REQUIREMENTS) {
            Setting flag = effective.get(rule.flag());
            if (flag != null && Boolean.TRUE.equals(flag.value()) && !effective.containsKey(rule.required())
                    && layers.stream().noneMatch(l -> l.given.containsKey(rule.required()))) {
                int line = flag.origin() instanceof Origin.FileLine f ? f.line() : 0;
                problems.add(new ConfigProblem(ConfigErrors.MISSING_KEY, line, flag.origin().locate(rule.flag())
                        + ": true requires " + rule.required().name() + " in [" + rule.required().section()
                        + "] (" + rule.required().doc() + ")"));
            }
        }
    }

    private static String sectionList() {
        return String.join(", ", ConfigKeys.SECTIONS.stream().map(s -> "[" + s + "]").toList());
    }

    /**
     * What one source (the file, or the flags) gives: where each key was given at all, and the values that
     * were accepted. A refused value is in {@code given} only, so duplicates and conflicts are still seen.
     */
    private static final class Layer {
        final Map<ConfigKey<?>, Origin> given = new LinkedHashMap<>();
        final Map<ConfigKey<?>, Setting> accepted = new LinkedHashMap<>();

        void add(ConfigKey<?> key, String text, Origin origin, int line, List<ConfigProblem> problems) {
            given.put(key, origin);
            if (text.isEmpty()) {
                problems.add(new ConfigProblem(ConfigErrors.EMPTY_VALUE, line, origin.locate(key)
                        + ": empty value; expected " + key.type().allowed()
                        + key.defaultText().map(d -> ", or delete the line for the default " + d).orElse("")));
                return;
            }
            try {
                accepted.put(key, new Setting(key, key.type().parse(text), origin));
            } catch (InvalidValueException e) {
                problems.add(new ConfigProblem(e.code(), line, origin.locate(key) + ": " + e.getMessage()));
            }
        }

        /** Lays this layer over {@code effective}; a key given here hides its alternatives from below. */
        void applyTo(Map<ConfigKey<?>, Setting> effective) {
            for (ConfigKey<?> key : given.keySet()) {
                for (List<ConfigKey<?>> group : ConfigKeys.ALTERNATIVES) {
                    if (group.contains(key)) {
                        group.stream().filter(k -> !given.containsKey(k)).forEach(effective::remove);
                    }
                }
            }
            effective.putAll(accepted);
        }
    }
}
