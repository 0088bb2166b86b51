package org.enclaveruntime.testing;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Decides per test method, never per class: a class that is skipped as a whole shows in Surefire's counts
 * as one skipped entry (or none), hiding how many KVM tests did not run.
 */
public final class KvmCondition implements ExecutionCondition, BeforeEachCallback {
    /** The device the tests check for: {@code -Denclave.kvm.device}, else /dev/kvm. */
    public static Path device() {
        return Path.of(System.getProperty("enclave.kvm.device", "/dev/kvm"));
    }

    /** Whether a missing device fails the KVM tests instead of skipping them. */
    public static boolean required() {
        return Boolean.getBoolean("enclave.requireKvm");
    }

    public static boolean available() {
        return Files.exists(device());
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (context.getTestMethod().isEmpty() || available() || required()) {
            return ConditionEvaluationResult.enabled("KVM device " + device() + " present, or required");
        }
        return ConditionEvaluationResult.disabled("SKIPPED: no KVM device " + device() + " on this host");
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (!available()) {
            throw new AssertionError("KVM device " + device() + " is missing, and -Denclave.requireKvm=true "
                    + "says this host must run the KVM tests: load kvm_intel/kvm_amd, or run on a host with KVM");
        }
    }
}
