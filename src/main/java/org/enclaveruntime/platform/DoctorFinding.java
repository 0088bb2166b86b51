package org.enclaveruntime.platform;

/**
 * One reported line of `enclavectl doctor`; in JSON {check, status, detail, remedy}.
 */
public record DoctorFinding(String check, CheckStatus status, String detail, String remedy) {
}
