package org.enclaveruntime.config;

import org.enclaveruntime.errors.ErrorCode;

/**
 * One thing wrong with a configuration.
 *
 * @param line    the line in the file, or 0 when the problem is not on a line (a flag, a missing key)
 * @param message the full message, location first: "enclave.conf:3: cpu_count: 'two' is not ..."
 */
public record ConfigProblem(ErrorCode code, int line, String message) {
}
