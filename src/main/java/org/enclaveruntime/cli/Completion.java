package org.enclaveruntime.cli;

import picocli.AutoComplete;

/**
 * Shell completion scripts, generated from the picocli model (packaging/docgen writes them into the RPM).
 * zsh gets picocli's bash script, which registers itself through zsh's bashcompinit when sourced, under a
 * #compdef line so that it also works as an autoloaded completion function from site-functions.
 */
public final class Completion {
    private Completion() {
    }

    public static String bash() {
        return AutoComplete.bash("enclavectl", EnclaveCtl.fullCommandLine());
    }

    public static String zsh() {
        return "#compdef enclavectl\n"
                + "# zsh completion of enclavectl, generated: picocli's completion script, which loads zsh's\n"
                + "# bashcompinit itself. Autoloaded from site-functions or sourced.\n"
                + bash().replaceFirst("^#![^\n]*\n", "")
                + "\n# Autoloaded as the function _enclavectl (first completion): the script above only registered\n"
                + "# the completion, so complete the word being asked for now.\n"
                + "if [[ -n $ZSH_VERSION && ${funcstack[1]} == _enclavectl ]]; then\n"
                + "  _bash_complete -F _complete_enclavectl \"$@\"\n"
                + "fi\n";
    }
}
