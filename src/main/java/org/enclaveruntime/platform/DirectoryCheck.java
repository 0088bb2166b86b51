package org.enclaveruntime.platform;

import java.nio.file.Files;
import java.nio.file.Path;

/** A directory enclavectl writes to (run_dir, log_dir) is writable, or can be created. Creates nothing. */
public record DirectoryCheck(String name, Path dir) implements DoctorCheck {
    @Override
    public CheckResult run() {
        String create = "Create it: install -d -m 0750 " + dir + " (or run as root).";
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                return CheckResult.fail(dir + " exists but is not a directory", "Remove or rename " + dir + ".");
            }
            return Files.isWritable(dir) ? CheckResult.ok(dir + " exists and is writable")
                    : CheckResult.fail(dir + " exists but is not writable by this user", "Run as root, or make it writable by this user.");
        }
        Path parent = dir.toAbsolutePath().getParent();
        while (parent != null && !Files.exists(parent)) {
            parent = parent.getParent();
        }
        if (parent != null && Files.isDirectory(parent) && Files.isWritable(parent)) {
            return CheckResult.ok(dir + " does not exist yet; it can be created (" + parent + " is writable)");
        }
        return CheckResult.fail(dir + " does not exist and cannot be created: " + parent + " is not writable", create);
    }
}
