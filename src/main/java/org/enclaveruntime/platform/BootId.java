package org.enclaveruntime.platform;

import java.nio.file.Path;

/**
 * The kernel's boot id, new at every boot. What enclavectl changed in the kernel (hugepage pools, cgroups) is
 * gone after a reboot; records of such changes carry the boot id so that they are never undone in another boot.
 */
public final class BootId {
    static final String FILE = "/proc/sys/kernel/random/boot_id";

    private BootId() {
    }

    /** The boot id below {@code root}, or null when the tree has none (a fake tree without it). */
    public static String current(Path root) {
        SysfsFiles sys = new SysfsFiles(root);
        return sys.exists(FILE) ? sys.read(FILE) : null;
    }

    /** Whether a record made in boot {@code recorded} belongs to the boot running now below {@code root}. */
    public static boolean isCurrent(String recorded, Path root) {
        return java.util.Objects.equals(recorded, current(root));
    }
}
