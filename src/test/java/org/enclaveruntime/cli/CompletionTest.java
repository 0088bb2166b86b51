package org.enclaveruntime.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The generated zsh completion loads in a plain zsh, registers itself and offers what the model has. */
class CompletionTest {
    @Test
    void zshLoadsTheGeneratedCompletion(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/zsh")), "zsh is not installed (Debian package zsh)");
        Path script = Files.writeString(dir.resolve("_enclavectl"), Completion.zsh());
        // Candidates through the completion function as zsh's _bash_complete calls it (sh emulation).
        String probe = "autoload -U compinit; compinit -u; source " + script + "; print -r -- \"reg=${_comps[enclavectl]}\"; "
                + "t() { emulate -L sh; COMP_WORDS=(\"$@\"); COMP_CWORD=$(($#-1)); COMPREPLY=(); "
                + "_complete_enclavectl enclavectl; print -r -- \"${COMPREPLY[*]}\"; }; "
                + "t enclavectl ima; t enclavectl image build --o; t enclavectl explain E4";
        Process p = new ProcessBuilder("/usr/bin/zsh", "-f", "-c", probe).redirectErrorStream(true)
                .directory(dir.toFile()).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().toList();
        assertEquals(4, lines.size(), out);
        assertTrue(lines.get(0).contains("_complete_enclavectl"), "registered: " + out);
        assertTrue(List.of(lines.get(1).split(" ")).containsAll(List.of("start", "image", "explain")), out);
        assertTrue(List.of(lines.get(2).split(" ")).containsAll(List.of("--out", "--output", "-o")), out);
        assertTrue(List.of(lines.get(3).split(" ")).contains("E400"), out);
    }
}
