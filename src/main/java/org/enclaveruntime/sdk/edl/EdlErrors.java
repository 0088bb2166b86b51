package org.enclaveruntime.sdk.edl;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/**
 * E95x: EDL files and the bridge generator (`enclavectl sdk edger8r`, docs/sdk-edl.md). The SDK's other codes
 * take the rest of E9xx.
 */
public final class EdlErrors {
    private EdlErrors() {
    }

    public static final ErrorCode SYNTAX = new ErrorCode("E950", ExitStatus.FAILURE, "EDL syntax error",
            "Fix the EDL at the file:line:column the message names (docs/sdk-edl.md has the grammar).",
            "The EDL file does not follow the grammar of SGX's Enclave Definition Language: an unexpected "
                    + "token, an unterminated comment or string, or a missing ';' or brace. The message names "
                    + "the file, line and column and what was expected there.");

    public static final ErrorCode UNSUPPORTED = new ErrorCode("E951", ExitStatus.FAILURE,
            "EDL construct not supported",
            "Rewrite the construct as docs/sdk-edl.md suggests for it (e.g. [sizefunc] becomes [size=param]).",
            "The EDL uses a construct of SGX's language that this generator refuses: a deprecated attribute "
                    + "([sizefunc]), [isary], attributes on struct members (deep copy), pointers to pointers "
                    + "with a direction, varargs, or Windows-only constructs. The message names the construct, "
                    + "where it is and why it is refused.");

    public static final ErrorCode INVALID = new ErrorCode("E952", ExitStatus.FAILURE, "EDL declaration is invalid",
            "Fix the declaration the message names: its attributes, types or names.",
            "The EDL parses but a declaration breaks a rule of the language: a pointer without a direction or "
                    + "[user_check], [string] on something that is not char *, [out] on a const buffer, "
                    + "[size=x] naming no integer parameter, a duplicate function or parameter name, an "
                    + "allow() naming no ECALL, or no public ECALL at all.");

    public static final ErrorCode IMPORT = new ErrorCode("E953", ExitStatus.FAILURE, "EDL import cannot be resolved",
            "Check the file name and the --search-path directories; break the import cycle if the message shows one.",
            "A `from \"x.edl\" import ...` names a file that is neither next to the importing file nor in a "
                    + "--search-path directory, cannot be read, imports itself through a cycle, or does not "
                    + "define a function the import names.");

    public static final List<ErrorCode> ALL = List.of(SYNTAX, UNSUPPORTED, INVALID, IMPORT);
}
