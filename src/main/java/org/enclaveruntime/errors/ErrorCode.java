package org.enclaveruntime.errors;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One entry of the error catalog. Each concept keeps its codes as constants in its own holder class
 * (GeneralErrors, ConfigErrors, KvmErrors, ...), all listed in {@link ErrorCatalog}, so that
 * `enclavectl explain` knows every code.
 *
 * <p>Ranges: E1xx general and CLI, E2xx configuration, E3xx run state and lock, E4xx KVM and VMM,
 * E5xx image, E6xx platform (CPUs, memory, hugepages); a new concept takes the next free hundred and adds it
 * to docs/development.md (CliConventionTest keeps that list and the catalog the same).
 *
 * @param id          stable identifier such as "E201"; never reused for another meaning
 * @param exitStatus  what the process exits with when this error ends it
 * @param title       one line naming the kind of failure
 * @param remedy      what to do, when the message itself does not say more
 * @param explanation the long form printed by `enclavectl explain`: causes and how to fix each
 */
public record ErrorCode(String id, ExitStatus exitStatus, String title, String remedy, String explanation) {
    private static final Pattern ID = Pattern.compile("E[1-9][0-9]{2}");

    public ErrorCode {
        Objects.requireNonNull(exitStatus);
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("error id must look like E201: " + id);
        }
        if (title.isBlank() || remedy.isBlank() || explanation.isBlank()) {
            throw new IllegalArgumentException(id + ": title, remedy and explanation are all required");
        }
    }
}
