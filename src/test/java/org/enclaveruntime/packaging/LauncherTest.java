package org.enclaveruntime.packaging;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** packaging/enclavectl, the launcher the RPM installs as /usr/bin/enclavectl. */
class LauncherTest {
    private static final Path LAUNCHER = Path.of(System.getProperty("enclave.project.dir", "."), "packaging", "enclavectl");

    @TempDir
    Path dir;

    record Run(int status, String err) {
    }

    /** A Java runtime of the given version that, if ever run, says so. */
    private Path fakeJava(String releaseVersion) throws Exception {
        Path home = dir.resolve("jdk-" + releaseVersion);
        Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\necho 'the old java ran' >&2\nexit 1\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"Test\"\nJAVA_VERSION=\"" + releaseVersion + "\"\n");
        return home;
    }

    private Run launch(Path javaHome) throws Exception {
        Path jar = Files.writeString(dir.resolve("enclavectl.jar"), "not run");
        ProcessBuilder pb = new ProcessBuilder("sh", LAUNCHER.toString(), "--version");
        pb.environment().put("JAVA_HOME", javaHome.toString());
        pb.environment().put("ENCLAVECTL_JAR", jar.toString());
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Run(p.exitValue(), err);
    }

    @Test
    void refusesAJavaOlderThan17WithAClearMessage() throws Exception {
        for (String old : new String[] {"11.0.2", "1.8.0_392"}) {
            Run r = launch(fakeJava(old));
            assertEquals(70, r.status(), r.err());
            assertTrue(r.err().contains("needs Java 17 or later") && r.err().contains("is Java " + (old.startsWith("1.") ? "8" : "11")),
                    r.err());
            assertFalse(r.err().contains("the old java ran") || r.err().contains("UnsupportedClassVersionError"), r.err());
        }
    }

    @Test
    void runsAJava17OrLater() throws Exception {
        Run r = launch(fakeJava("21.0.1"));
        assertTrue(r.err().contains("the old java ran"), "Java 21 must be accepted: " + r.err());
    }
}
