package org.enclaveruntime.platform;

/**
 * What a doctor check found.
 *
 * @param status OK, WARN or FAIL
 * @param detail what was found, with the numbers
 * @param remedy what to do; null when OK
 */
public record CheckResult(CheckStatus status, String detail, String remedy) {
    public static CheckResult ok(String detail) {
        return new CheckResult(CheckStatus.OK, detail, null);
    }

    public static CheckResult warn(String detail, String remedy) {
        return new CheckResult(CheckStatus.WARN, detail, remedy);
    }

    public static CheckResult fail(String detail, String remedy) {
        return new CheckResult(CheckStatus.FAIL, detail, remedy);
    }
}
