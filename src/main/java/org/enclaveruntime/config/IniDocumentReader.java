package org.enclaveruntime.config;

import org.ini4j.Config;
import org.ini4j.InvalidFileFormatException;
import org.ini4j.spi.IniHandler;
import org.ini4j.spi.IniParser;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses configuration text with ini4j and attaches line numbers, which ini4j does not report.
 *
 * <p>How lines are found: with continuation lines and includes switched off, ini4j turns every line that is
 * not blank and does not start with ; or # (after trimming) into exactly one event, a section header or an
 * option, in file order. A small scan applying the same rule lists those lines, so the n-th event belongs to
 * the n-th of them; each option's key is checked against its line to catch any disagreement.
 *
 * <p>ini4j is driven through its parser with our own handler rather than its {@code Ini} map, which would
 * merge duplicate sections and keys without a trace.
 */
final class IniDocumentReader {
    private IniDocumentReader() {
    }

    private static final String COMMENT_STARTS = ";#";

    /**
     * @param fileLabel the file's name as messages print it
     * @throws InvalidConfigException with a single {@link ConfigErrors#SYNTAX} problem at the first bad line
     */
    static IniDocument read(String fileLabel, String text) {
        List<SourceLine> significant = significantLines(text);
        Recorder recorder = new Recorder(fileLabel, significant);
        try {
            IniParser.newInstance(strictConfig()).parse(new StringReader(text), recorder);
        } catch (InvalidFileFormatException e) {
            SourceLine bad = recorder.next();
            throw new InvalidConfigException(List.of(new ConfigProblem(ConfigErrors.SYNTAX, bad.number(),
                    fileLabel + ":" + bad.number() + ": " + whyUnparsable(bad.text(), recorder.inSection()))));
        } catch (IOException e) {
            throw new UncheckedIOException("reading from a string", e);
        }
        return new IniDocument(fileLabel, recorder.sections);
    }

    /**
     * ini4j's Config constructor also reads org.ini4j.config.* system properties; every setting that changes
     * how a file is read is set here so nothing outside can loosen it.
     */
    private static Config strictConfig() {
        Config config = new Config();
        config.setEscape(false);          // "\t" in a path stays a backslash and a t
        config.setEscapeNewline(false);   // a trailing backslash does not join the next line
        config.setInclude(false);         // no "<file>" includes
        config.setEmptyOption(false);     // "key" without "=" is a syntax error
        config.setGlobalSection(false);   // a key before any [section] is a syntax error
        config.setUnnamedSection(false);  // "[]" is a syntax error
        config.setLowerCaseOption(false); // names are matched exactly
        config.setLowerCaseSection(false);
        config.setMultiOption(true);      // irrelevant to our handler, but never merge if one is ever used
        config.setMultiSection(true);
        return config;
    }

    record SourceLine(int number, String text) {
    }

    /** The lines ini4j turns into events: not blank and not a comment after trimming. */
    static List<SourceLine> significantLines(String text) {
        List<SourceLine> lines = new ArrayList<>();
        // BufferedReader splits at \n, \r and \r\n, exactly as ini4j's LineNumberReader does.
        try (BufferedReader reader = new BufferedReader(new StringReader(text))) {
            int number = 0;
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                number++;
                String trimmed = line.trim();
                if (!trimmed.isEmpty() && COMMENT_STARTS.indexOf(trimmed.charAt(0)) < 0) {
                    lines.add(new SourceLine(number, trimmed));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading from a string", e);
        }
        return lines;
    }

    /** Says what is wrong with a line ini4j refused, in the user's terms. */
    private static String whyUnparsable(String line, boolean inSection) {
        if (line.startsWith("[")) {
            int close = line.indexOf(']');
            if (close < 0) {
                return "'" + line + "': section header lacks the closing ']'";
            }
            if (close < line.length() - 1) {
                return "'" + line + "': text after the section header; comments must be on a line of their own";
            }
            return "'" + line + "': empty section name";
        }
        int operator = operatorIndex(line);
        if (operator < 0) {
            return "'" + line + "' is not 'key = value', a [section] header or a comment";
        }
        String key = line.substring(0, operator).trim();
        if (key.isEmpty()) {
            return "'" + line + "' has no key before '" + line.charAt(operator) + "'";
        }
        if (!inSection) {
            String home = ConfigKeys.ALL.stream().filter(k -> k.name().equals(key)).findFirst()
                    .map(k -> "[" + k.section() + "]").orElse("a [section] header");
            return key + ": key before any [section] header; put it under " + home;
        }
        return "'" + line + "' cannot be parsed";
    }

    /** Where ini4j splits key from value: the first '=' or ':'. */
    static int operatorIndex(String line) {
        int equals = line.indexOf('=');
        int colon = line.indexOf(':');
        if (equals < 0) {
            return colon;
        }
        return colon < 0 ? equals : Math.min(equals, colon);
    }

    /** Collects ini4j's events, pairing each with its line. */
    private static final class Recorder implements IniHandler {
        private final String fileLabel;
        private final List<SourceLine> lines;
        private final List<IniDocument.Section> sections = new ArrayList<>();
        private List<IniDocument.Entry> entries;
        private int consumed;

        Recorder(String fileLabel, List<SourceLine> lines) {
            this.fileLabel = fileLabel;
            this.lines = lines;
        }

        SourceLine next() {
            if (consumed >= lines.size()) {
                throw new IllegalStateException(fileLabel + ": ini4j reported more lines than the file has");
            }
            return lines.get(consumed);
        }

        boolean inSection() {
            return entries != null;
        }

        @Override
        public void startSection(String name) {
            SourceLine line = next();
            consumed++;
            entries = new ArrayList<>();
            sections.add(new IniDocument.Section(name, line.number(), entries));
        }

        @Override
        public void handleOption(String key, String value) {
            SourceLine line = next();
            consumed++;
            if (!line.text().startsWith(key)) {
                throw new IllegalStateException(fileLabel + ":" + line.number() + ": ini4j reported key '" + key
                        + "' for line '" + line.text() + "'");
            }
            entries.add(new IniDocument.Entry(key, value, line.number()));
        }

        @Override
        public void startIni() {
        }

        @Override
        public void endIni() {
        }

        @Override
        public void endSection() {
        }

        @Override
        public void handleComment(String comment) {
        }
    }
}
