package org.enclaveruntime.config;

import org.enclaveruntime.errors.EnclaveException;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Everything wrong with a configuration, so that one `config check` shows every problem rather than one
 * per run. Its code is that of the first problem; its message lists each problem on its own line, the
 * second and later ones as "error CODE: message", the way the first one is printed.
 */
public final class InvalidConfigException extends EnclaveException {
    private final transient List<ConfigProblem> problems;

    InvalidConfigException(List<ConfigProblem> problems) {
        super(problems.get(0).code(), render(problems), remedy(problems), null);
        this.problems = List.copyOf(problems);
    }

    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String render(List<ConfigProblem> problems) {
        return problems.get(0).message() + problems.stream().skip(1)
                .map(p -> "\nerror " + p.code().id() + ": " + p.message())
                .collect(Collectors.joining());
    }

    private static String remedy(List<ConfigProblem> problems) {
        if (problems.size() == 1) {
            return problems.get(0).code().remedy();
        }
        return "Fix each of the " + problems.size() + " problems listed; `enclavectl explain CODE` explains "
                + "each code.";
    }
}
