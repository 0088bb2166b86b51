package org.enclaveruntime.errors;

import java.util.List;

/** E1xx: failures that belong to no single concept. */
public final class GeneralErrors {
    private GeneralErrors() {
    }

    public static final ErrorCode INTERNAL = new ErrorCode("E100", ExitStatus.INTERNAL, "internal error",
            "Run the command again with -v and report the output, including the stack trace.",
            "enclavectl hit a condition its authors did not expect. This is a bug, not a problem with your "
                    + "machine or configuration. With -v the full stack trace is printed; the log file in "
                    + "log_dir has the same.");

    public static final ErrorCode UNKNOWN_CODE = new ErrorCode("E101", ExitStatus.USAGE, "unknown error code",
            "Run `enclavectl explain --list` to see every code.",
            "`enclavectl explain CODE` takes a code such as E201, as printed in an error message, or the value or "
                    + "name of an enclave status (sgx_status_t) such as 0x2003 or SGX_ERROR_INVALID_SIGNATURE; "
                    + "docs/sdk.md lists the statuses.");

    public static final ErrorCode IO = new ErrorCode("E102", ExitStatus.FAILURE, "I/O error",
            "Check that the file or directory named in the message exists and is accessible, then retry.",
            "An operating-system call on a file, directory or socket failed. The message names the path "
                    + "and the system's reason (for example 'Permission denied' or 'No space left on device').");

    public static final ErrorCode NOT_ROOT = new ErrorCode("E103", ExitStatus.RESOURCES,
            "insufficient privileges",
            "Run the command as root (sudo enclavectl ...), or give your user access to the path named.",
            "Starting and stopping an enclave needs access to /dev/kvm, to the run directory and to the "
                    + "hugepage controls in /sys. These belong to root on a standard installation.");

    public static final ErrorCode USAGE = new ErrorCode("E110", ExitStatus.USAGE, "invalid command line",
            "Run the command with --help to see its options and arguments.",
            "The command line names a command or option that does not exist, leaves out a required argument, "
                    + "or gives an option a value it cannot take. The message names the word at fault.");

    public static final List<ErrorCode> ALL = List.of(INTERNAL, UNKNOWN_CODE, IO, NOT_ROOT, USAGE);
}
