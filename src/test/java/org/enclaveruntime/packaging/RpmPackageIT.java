package org.enclaveruntime.packaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built RPM (target/rpm, by `mvn -Prpm package`): rpmlint, its file list, and a real install into a
 * scratch root, whose enclavectl, man pages and completion are then used as installed. Run only by the rpm
 * profile (the name ends in IT, which the default test run leaves out).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RpmPackageIT {
    private static final Path PROJECT = Path.of(System.getProperty("enclave.project.dir", "."));
    private static final Path RPM_DIR = Path.of(System.getProperty("enclave.rpm.dir", "target/rpm"));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path rpm;
    private static Path root;

    record Run(int status, String out) {
    }

    @BeforeAll
    static void theRpm() throws IOException {
        try (Stream<Path> files = Files.list(RPM_DIR)) {
            List<Path> rpms = files.filter(p -> p.getFileName().toString().matches("de-platform-runtime-.*\\.x86_64\\.rpm"))
                    .toList();
            assertEquals(1, rpms.size(), "one RPM in " + RPM_DIR + ": " + rpms);
            rpm = rpms.get(0);
        }
        root = RPM_DIR.resolve("scratch-root");
    }

    static Run run(Map<String, String> env, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", command) + " hangs");
        return new Run(p.exitValue(), out);
    }

    static Run run(String... command) throws Exception {
        return run(Map.of(), command);
    }

    @Test
    @Order(1)
    void rpmlintFindsNoErrors() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/rpmlint")),
                "rpmlint is not installed (Debian package rpmlint)");
        Run lint = run("rpmlint", "-r", PROJECT.resolve("packaging/rpm/de-platform-runtime.rpmlintrc").toString(),
                rpm.toString());
        assertTrue(lint.out().contains(" 0 errors"), lint.out());
    }

    @Test
    @Order(2)
    void installsTheProductLayout() throws Exception {
        Run list = run("rpm", "-qlp", rpm.toString());
        assertEquals(0, list.status(), list.out());
        Set<String> files = new TreeSet<>(list.out().lines().toList());
        for (String expected : List.of("/usr/bin/enclavectl", "/usr/share/de-platform-runtime/enclavectl.jar",
                "/usr/share/de-platform-runtime/enclavectl.jsa", "/etc/enclave.conf",
                "/usr/local/share/dragonfly/image.bin", "/usr/lib/systemd/system/de_platform_service.service",
                "/usr/lib/tmpfiles.d/de-platform-runtime.conf", "/etc/logrotate.d/de-platform-runtime",
                "/usr/share/man/man1/enclavectl.1.gz", "/usr/share/man/man1/enclavectl-start.1.gz",
                "/usr/share/man/man5/enclave.conf.5.gz", "/usr/share/bash-completion/completions/enclavectl",
                "/usr/share/zsh/site-functions/_enclavectl", "/usr/share/licenses/de-platform-runtime/LICENSE",
                "/usr/share/doc/de-platform-runtime/README.md", "/usr/share/doc/de-platform-runtime/install.md",
                "/var/log/enclave", "/run/enclave")) {
            assertTrue(files.contains(expected), expected + " is not in the package: " + files);
        }
        for (String f : files) {
            assertTrue(f.matches("/(usr/(bin|share|lib|local/share/dragonfly)|etc|var/log/enclave|run/enclave)(/.*)?"),
                    f + " is outside the product's layout");
        }
        Run config = run("rpm", "-qcp", rpm.toString());
        assertTrue(config.out().lines().anyMatch("/etc/enclave.conf"::equals), config.out());
        Run requires = run("rpm", "-qp", "--requires", rpm.toString());
        assertTrue(requires.out().lines().anyMatch(l -> l.strip().equals("java-headless >= 1:17")), requires.out());
        assertTrue(requires.out().lines().noneMatch(l -> l.contains("openjdk")), "a vendor's package: " + requires.out());
    }

    @Test
    @Order(3)
    void installedIntoAScratchRootItWorks() throws Exception {
        run("rm", "-rf", root.toString());
        Files.createDirectories(root);
        Run install = run("rpm", "-i", "--root", root.toString(), "--dbpath", "/var/lib/rpm", "--nodeps",
                "--noscripts", rpm.toString());
        assertEquals(0, install.status(), install.out());
        Run query = run("rpm", "-q", "--root", root.toString(), "--dbpath", "/var/lib/rpm", "de-platform-runtime");
        assertEquals(0, query.status(), query.out());

        // %post, as rpm runs it, but outside a chroot (the scratch root has no shell of its own).
        Run post = run("rpm", "-qp", "--queryformat", "%{POSTIN}", rpm.toString());
        String archiveStep = post.out().lines().filter(l -> l.contains("build-class-data-archive")).findFirst()
                .orElseThrow(() -> new AssertionError("%post does not build the class-data archive: " + post.out()));
        Run archive = run("sh", "-c", archiveStep.replace("/usr/share/", root + "/usr/share/"));
        assertEquals(0, archive.status(), archive.out());
        assertTrue(Files.size(root.resolve("usr/share/de-platform-runtime/enclavectl.jsa")) > 0);

        Path enclavectl = root.resolve("usr/bin/enclavectl");
        Run version = run(enclavectl.toString(), "--version");
        assertEquals(0, version.status(), version.out());
        assertTrue(version.out().startsWith("enclavectl " + expectedVersion()), version.out());

        // The installed configuration names the installed image by its absolute path: the commands that read
        // it see the scratch root's /usr/local/share in a mount namespace of their own (the host is untouched).
        Map<String, String> env = Map.of("ENCLAVE_CONF", root.resolve("etc/enclave.conf").toString());
        Run check = installed(env, "config", "check");
        assertEquals(0, check.status(), check.out());

        Run doctor = installed(env, "doctor", "--output", "json");
        JsonNode findings = JSON.readTree(doctor.out().substring(doctor.out().indexOf('[')));
        boolean anyFailed = false;
        for (JsonNode f : findings) {
            anyFailed |= f.path("status").asText().equals("FAIL");
            if (List.of("config", "image").contains(f.path("check").asText())) {
                assertTrue(List.of("OK", "WARN").contains(f.path("status").asText()), f.toString());
            }
        }
        assertEquals(anyFailed ? 5 : 0, doctor.status(), doctor.out());
        assertEquals(Files.exists(Path.of("/dev/kvm")), findings.findValues("check").stream()
                .anyMatch(c -> c.asText().equals("kvm_caps")), doctor.out());

        Run man = run(Map.of("MANPAGER", "cat", "MANWIDTH", "100"), "man", "-l",
                root.resolve("usr/share/man/man1/enclavectl-start.1.gz").toString());
        assertEquals(0, man.status(), man.out());
        assertTrue(man.out().contains("enclavectl start") && man.out().contains("--foreground"), man.out());
        Run conf = run(Map.of("MANPAGER", "cat"), "man", "-l", root.resolve("usr/share/man/man5/enclave.conf.5.gz").toString());
        assertTrue(conf.out().contains("kvm_device"), conf.out());
    }

    @Test
    @Order(4)
    void bashCompletesCommandsOptionsAndErrorCodes() throws Exception {
        Path script = root.resolve("usr/share/bash-completion/completions/enclavectl");
        assertTrue(Files.exists(script), "install first");
        assertEquals(List.of("start", "status", "stop"), complete(script, "enclavectl", "st"));
        assertTrue(complete(script, "enclavectl", "start", "--f").contains("--foreground"));
        List<String> codes = complete(script, "enclavectl", "explain", "E40");
        assertTrue(codes.contains("E400") && codes.stream().allMatch(c -> c.startsWith("E40")), codes.toString());
    }

    @Test
    @Order(5)
    void zshLoadsTheInstalledCompletion() throws Exception {
        Path script = root.resolve("usr/share/zsh/site-functions/_enclavectl");
        assertTrue(Files.exists(script), "install first");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/zsh")), "zsh is not installed (Debian package zsh)");
        Run r = run("zsh", "-f", "-c", "autoload -U compinit; compinit -u -d /dev/null; source '" + script
                + "' && print -r -- ${_comps[enclavectl]}");
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("_complete_enclavectl"), r.out());
    }

    /** What bash's completion offers for the last word, with the installed script loaded. */
    private static List<String> complete(Path script, String... words) throws Exception {
        String array = Stream.of(words).map(w -> "'" + w + "'").collect(Collectors.joining(" "));
        Run r = run("bash", "-c", "source '" + script + "' && COMP_WORDS=(" + array + ") && COMP_CWORD="
                + (words.length - 1) + " && COMP_LINE='" + String.join(" ", words) + "' && COMP_POINT=${#COMP_LINE}"
                + " && _complete_enclavectl enclavectl 2>/dev/null && printf '%s\\n' \"${COMPREPLY[@]}\"");
        assertEquals(0, r.status(), r.out());
        return new ArrayList<>(new TreeSet<>(r.out().lines().map(String::strip).filter(s -> !s.isEmpty()).toList()));
    }

    /** The installed enclavectl with the scratch root's /usr/local/share bound over the host's. */
    private static Run installed(Map<String, String> env, String... args) throws Exception {
        Assumptions.assumeTrue(run("unshare", "-m", "true").status() == 0,
                "cannot make a mount namespace here (unshare -m), to see the installed image at its path");
        List<String> command = new ArrayList<>(List.of("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount --bind \"$0\" /usr/local/share && exec \"$@\"", root.resolve("usr/local/share").toString(),
                root.resolve("usr/bin/enclavectl").toString()));
        command.addAll(List.of(args));
        return run(env, command.toArray(String[]::new));
    }

    private static String expectedVersion() throws IOException {
        String pom = Files.readString(PROJECT.resolve("pom.xml"));
        int start = pom.indexOf("<version>", pom.indexOf("</modelVersion>")) + "<version>".length();
        return pom.substring(start, pom.indexOf("</version>", start));
    }
}
