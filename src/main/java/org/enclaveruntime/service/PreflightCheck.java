package org.enclaveruntime.service;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.kvm.Kvm;

import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * One thing `start` checks before it reserves hugepages or spawns the VMM, and `start --dry-run` reports.
 *
 * @param name    what was checked: "kvm", "image", ...
 * @param detail  what was found, when it passed; the failure's message otherwise
 * @param failure the error `start` would fail with, or null when the check passed
 */
public record PreflightCheck(String name, String detail, EnclaveException failure) {
    public boolean passed() {
        return failure == null;
    }

    /** Runs {@code check}, which returns what it found or throws the error `start` would fail with. */
    public static PreflightCheck run(String name, Supplier<String> check) {
        try {
            return new PreflightCheck(name, check.get(), null);
        } catch (EnclaveException e) {
            return new PreflightCheck(name, e.getMessage(), e);
        }
    }

    /** The KVM device opens and reports the API version and every capability the VMM needs. */
    public static PreflightCheck kvm(Path device) {
        return run("kvm", () -> {
            try (Kvm kvm = Kvm.open(device)) {
                return device + ": KVM API version 12 with every capability the VMM needs";
            }
        });
    }

    /** Throws the failure, if any: for `start`, which goes no further. */
    public PreflightCheck require() {
        if (failure != null) {
            throw failure;
        }
        return this;
    }
}
