package org.enclaveruntime.platform;

/**
 * One line of `enclavectl doctor`. Other packages (configuration, image, KVM capabilities) add their own
 * implementations; the command runs them all in order and exits non-zero if any result is FAIL.
 */
public interface DoctorCheck {
    /** Short, stable, snake_case: shown in the first column and as "check" in JSON. */
    String name();

    /** Looks, never changes anything. May throw: the doctor reports an exception as FAIL. */
    CheckResult run();

    /** A check from a name and a function, for checks that are one call into another package. */
    static DoctorCheck of(String name, java.util.function.Supplier<CheckResult> run) {
        return new DoctorCheck() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public CheckResult run() {
                return run.get();
            }
        };
    }
}
