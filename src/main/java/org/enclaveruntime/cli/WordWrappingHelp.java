package org.enclaveruntime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.ColorScheme;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.util.ArrayList;
import java.util.IllegalFormatException;
import java.util.List;
import java.util.Map;

/**
 * picocli's help, with lines broken only at spaces. picocli wraps with the JDK's line BreakIterator, which
 * also breaks after '.', '/' and ':', so at some terminal widths "/etc/enclave." ended one line and "conf,"
 * began the next. Only the breaking differs: sections, columns and indents stay picocli's.
 */
final class WordWrappingHelp extends CommandLine.Help {
    WordWrappingHelp(CommandSpec spec, ColorScheme scheme) {
        super(spec, scheme);
    }

    @Override
    public Layout createDefaultLayout(List<OptionSpec> options, List<PositionalParamSpec> positionals,
                                      ColorScheme scheme) {
        Layout layout = super.createDefaultLayout(options, positionals, scheme);
        return new Layout(scheme, SpaceWrappingTable.like(layout.textTable(), scheme), layout.optionRenderer(),
                layout.parameterRenderer());
    }

    /** picocli's list of subcommands (name, first line of header or description), with space-only breaks. */
    @Override
    public String commandList(Map<String, CommandLine.Help> subcommands) {
        if (subcommands.isEmpty()) {
            return "";
        }
        int width = commandSpec().usageMessage().width();
        int names = Math.min(subcommands.keySet().stream().mapToInt(String::length).max().orElse(0), width / 2);
        TextTable table = new SpaceWrappingTable(colorScheme(), new Column(names + 2, 2, Column.Overflow.SPAN),
                new Column(width - (names + 2), 2, Column.Overflow.WRAP));
        for (Map.Entry<String, CommandLine.Help> e : subcommands.entrySet()) {
            CommandLine.Model.UsageMessageSpec usage = e.getValue().commandSpec().usageMessage();
            String first = usage.header().length > 0 ? usage.header()[0]
                    : usage.description().length > 0 ? usage.description()[0] : "";
            Text[] lines = colorScheme().text(format(first)).splitLines();
            for (int i = 0; i < lines.length; i++) {
                table.addRowValues(i == 0 ? colorScheme().commandText(e.getKey()) : colorScheme().text(""), lines[i]);
            }
        }
        return table.toString();
    }

    /**
     * picocli's synopsis with space-only breaks: the heading's width of padding, the command name, then the
     * options, continued lines indented under the first option (or by the configured synopsis indent when the
     * name is too long for that).
     */
    @Override
    protected String insertSynopsisCommandName(int headingLength, Text details) {
        CommandLine.Model.UsageMessageSpec usage = commandSpec().usageMessage();
        int width = usage.width();
        String name = commandSpec().qualifiedName();
        int indent = headingLength + name.length() + 1;
        if (indent > usage.synopsisAutoIndentThreshold() * width) {
            indent = Math.min(usage.synopsisIndent() < 0 ? headingLength : usage.synopsisIndent(), (int) (0.9 * width));
        }
        TextTable table = new SpaceWrappingTable(colorScheme(), new Column(width, 0, Column.Overflow.WRAP));
        table.indentWrappedLines = indent;
        Text padding = CommandLine.Help.Ansi.OFF.new Text("X".repeat(headingLength), colorScheme());
        table.addRowValues(padding.concat(colorScheme().commandText(name)).concat(details));
        return table.toString().substring(headingLength);
    }

    @Override
    public String header(Object... params) {
        return paragraphs(commandSpec().usageMessage().header(), params);
    }

    @Override
    public String description(Object... params) {
        return paragraphs(commandSpec().usageMessage().description(), params);
    }

    @Override
    public String footer(Object... params) {
        return paragraphs(commandSpec().usageMessage().footer(), params);
    }

    /** What picocli's join does for these sections: each string formatted, its lines wrapped at the width. */
    private String paragraphs(String[] texts, Object... params) {
        if (texts == null || texts.length == 0) {
            return "";
        }
        TextTable table = new SpaceWrappingTable(colorScheme(), new Column(commandSpec().usageMessage().width(), 0,
                Column.Overflow.WRAP));
        table.indentWrappedLines = 0;
        for (String text : texts) {
            for (Text line : colorScheme().text(format(text, params)).splitLines()) {
                table.addRowValues(line);
            }
        }
        return table.toString();
    }

    private static String format(String text, Object... params) {
        try {
            return text == null ? "" : String.format(text, params);
        } catch (IllegalFormatException e) {
            return text; // picocli prints such a text as it is, too
        }
    }

    /** {@code text} wrapped at {@code width} columns the same way, for long texts outside help (explain). */
    static String wrap(String text, int width) {
        TextTable table = new SpaceWrappingTable(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF),
                new Column(width, 0, Column.Overflow.WRAP));
        table.indentWrappedLines = 0;
        table.addRowValues(text);
        return table.toString();
    }

    /** A text table whose wrapping columns break lines at spaces only (a longer word than a line is cut). */
    static final class SpaceWrappingTable extends TextTable {
        private final ColorScheme scheme;

        SpaceWrappingTable(ColorScheme scheme, Column... columns) {
            super(scheme, columns);
            this.scheme = scheme;
        }

        static TextTable like(TextTable table, ColorScheme scheme) {
            SpaceWrappingTable copy = new SpaceWrappingTable(scheme, table.columns());
            copy.indentWrappedLines = table.indentWrappedLines;
            copy.setAdjustLineBreaksForWideCJKCharacters(table.isAdjustLineBreaksForWideCJKCharacters());
            return copy;
        }

        @Override
        public Cell putValue(int row, int col, Text value) {
            Column column = columns()[col];
            if (column.overflow != Column.Overflow.WRAP || value == null || value.plainString().isEmpty()) {
                return super.putValue(row, col, value);
            }
            // One column short of the width, as picocli leaves it (its word segments carry their trailing space).
            int first = column.width - column.indent - 1;
            List<int[]> lines = lines(value.plainString(), first, first - indentWrappedLines);
            for (int i = 0; i < lines.size(); i++) {
                Text line = value.substring(lines.get(i)[0], lines.get(i)[1]);
                if (i > 0) {
                    // as picocli does: a wrapped line goes into a new row, indented by indentWrappedLines
                    addEmptyRow();
                    row++;
                    line = scheme.text(" ".repeat(indentWrappedLines)).concat(line);
                }
                super.putValue(row, col, line);
            }
            return new Cell(col, row);
        }

        /** [start, end) of each line of {@code s}: as many words as fit, the space at a break dropped. */
        static List<int[]> lines(String s, int firstWidth, int width) {
            List<int[]> lines = new ArrayList<>();
            int start = 0;
            int room = Math.max(1, firstWidth);
            while (start < s.length()) {
                if (s.length() - start <= room) {
                    lines.add(new int[] {start, s.length()});
                    break;
                }
                int space = s.lastIndexOf(' ', start + room);
                if (space <= start) {
                    lines.add(new int[] {start, start + room});
                    start += room;
                } else {
                    lines.add(new int[] {start, space});
                    start = space + 1;
                    while (start < s.length() && s.charAt(start) == ' ') {
                        start++;
                    }
                }
                room = Math.max(1, width);
            }
            return lines;
        }
    }
}
