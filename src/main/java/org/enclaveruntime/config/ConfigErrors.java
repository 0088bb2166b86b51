package org.enclaveruntime.config;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/**
 * E2xx: the configuration file and the command-line values that override it. Every message names the
 * file and line (or the flag), the key, the value at fault and what is allowed.
 */
public final class ConfigErrors {
    private ConfigErrors() {
    }

    private static ErrorCode code(String id, String title, String remedy, String explanation) {
        return new ErrorCode(id, ExitStatus.CONFIG, title, remedy, explanation);
    }

    public static final ErrorCode SYNTAX = code("E200", "configuration syntax error",
            "Fix the line named in the message: every line is `key = value`, a `[section]` header, "
                    + "a comment starting with ; or #, or blank.",
            "The configuration file is INI: `[section]` headers, `key = value` lines below them, comments on "
                    + "lines of their own starting with ; or # (a value may end with ` ; comment`). This error "
                    + "means a line is none of these: a header without its closing ']', text after a header, "
                    + "a line without '=', a line with no key before '=', or a key before the first section "
                    + "header. Parsing stops at the first such line. See docs/configuration.md.");

    public static final ErrorCode UNKNOWN_SECTION = code("E201", "unknown configuration section",
            "Use one of the sections [enclave], [vsock], [runtime]; names are case-sensitive.",
            "The file has a `[section]` header enclavectl does not know. Sections and keys are matched exactly "
                    + "(lower case); a misspelt section would otherwise be ignored silently, so it is an error. "
                    + "The message suggests the nearest known section.");

    public static final ErrorCode UNKNOWN_KEY = code("E202", "unknown configuration key",
            "Correct the key's spelling or move it to the section the message suggests; "
                    + "`enclavectl config show` lists every key.",
            "A key inside a known section is not one enclavectl knows, in that section. The message suggests "
                    + "the nearest key, or the section where a key of that name belongs. docs/configuration.md "
                    + "lists every key.");

    public static final ErrorCode DUPLICATE_KEY = code("E203", "duplicate configuration key",
            "Keep one of the two lines named in the message and delete the other.",
            "A key is given twice in the same section. Rather than guess which one was meant (INI readers "
                    + "differ: some take the first, some the last), enclavectl refuses the file.");

    public static final ErrorCode DUPLICATE_SECTION = code("E204", "duplicate configuration section",
            "Merge the two sections named in the message into one.",
            "A `[section]` header appears twice. Sections are not merged: a second [enclave] further down "
                    + "is usually a leftover of an edit, and its keys would silently win or lose. Put all keys "
                    + "of a section under one header.");

    public static final ErrorCode CONFLICTING_KEYS = code("E205", "conflicting configuration keys",
            "Give only one of the keys named in the message (for CPUs: cpu_count or cpu_ids, not both).",
            "Some keys are alternatives: cpu_count asks for any N CPUs, cpu_ids names them. Giving both "
                    + "in the file (or both --cpu-count and --cpu-ids) is contradictory. A value given on the "
                    + "command line replaces the file's alternative: --cpu-ids overrides a file's cpu_count.");

    public static final ErrorCode MISSING_KEY = code("E206", "required configuration key missing",
            "Add the key named in the message, or turn off the setting that requires it.",
            "A setting needs another key to be meaningful: require_signed = true needs trusted_cert, the "
                    + "certificate that signs acceptable images.");

    public static final ErrorCode EMPTY_VALUE = code("E207", "empty configuration value",
            "Give the key a value, or delete the line to use the default.",
            "A line `key =` has nothing after '=' (or only a comment). An empty value is never a valid "
                    + "setting; delete the line to get the built-in default shown by `enclavectl config show`.");

    public static final ErrorCode MALFORMED_VALUE = code("E208", "malformed configuration value",
            "Write the value in the form the message names, e.g. cpu_count = 2, memory = 1024M.",
            "A value cannot be read as the type of its key: a whole number with letters in it, a size or "
                    + "duration with a fraction (1.5G: write 1536M instead).");

    public static final ErrorCode BAD_UNIT = code("E209", "missing or unknown unit",
            "Add a unit to the number: K, M or G for sizes (1024M), ms, s or m for durations (10s).",
            "Sizes and durations need an explicit unit, so that `memory = 1024` cannot mean bytes to one "
                    + "reader and MiB to another. Sizes: K, M, G (powers of 1024; KiB, MiB, GiB also "
                    + "accepted; KB/MB/GB are refused as ambiguous). Durations: ms, s, m.");

    public static final ErrorCode OUT_OF_RANGE = code("E210", "configuration value out of range",
            "Choose a value inside the range the message names.",
            "A value is well-formed but not allowed: below the minimum, above the maximum, or (memory) not "
                    + "a multiple of 2M, the size of the pages that back the enclave. docs/configuration.md "
                    + "lists each key's range.");

    public static final ErrorCode BAD_CPU_LIST = code("E211", "invalid CPU list",
            "Write CPU numbers and ranges separated by commas, ascending, each CPU once: e.g. 2-3,6.",
            "cpu_ids takes a Linux CPU list: comma-separated CPU numbers and ranges `a-b` with a <= b, "
                    + "each CPU at most once, numbers 0..4095. Empty elements (`1,,2`), backward ranges "
                    + "(`3-1`) and repeated CPUs are refused.");

    public static final ErrorCode RELATIVE_PATH = code("E212", "relative path in configuration",
            "Give the full path, starting with /.",
            "Paths in the configuration file must be absolute: a relative path would depend on the "
                    + "directory enclavectl happens to be started from (systemd starts it in /). Values are "
                    + "taken literally: no quotes, no ~.");

    public static final ErrorCode BAD_CHOICE = code("E213", "value is not one of the allowed words",
            "Use one of the words the message lists.",
            "Booleans are true or false (yes/no, on/off and 1/0 are accepted too, in any case). "
                    + "hugepages is auto, 2M, 1G or off; isolate is cpuset or none.");

    public static final ErrorCode FILE_NOT_FOUND = code("E214", "configuration file not found",
            "Check the path given with --config or in $ENCLAVE_CONF, or unset it to use /etc/enclave.conf.",
            "A configuration file named explicitly (with --config FILE or the environment variable "
                    + "ENCLAVE_CONF) does not exist. Only the default /etc/enclave.conf may be absent, in "
                    + "which case the built-in defaults apply.");

    public static final ErrorCode FILE_UNREADABLE = code("E215", "configuration file unreadable",
            "Make the file readable by the user running enclavectl, and make sure it is UTF-8 text.",
            "The configuration file exists but cannot be read: permission denied, it is a directory, or "
                    + "its contents are not UTF-8 text.");

    public static final List<ErrorCode> ALL = List.of(SYNTAX, UNKNOWN_SECTION, UNKNOWN_KEY, DUPLICATE_KEY,
            DUPLICATE_SECTION, CONFLICTING_KEYS, MISSING_KEY, EMPTY_VALUE, MALFORMED_VALUE, BAD_UNIT,
            OUT_OF_RANGE, BAD_CPU_LIST, RELATIVE_PATH, BAD_CHOICE, FILE_NOT_FOUND, FILE_UNREADABLE);
}
