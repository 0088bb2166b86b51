package org.enclaveruntime.cli;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.platform.PartitionPlan;
import org.enclaveruntime.service.PreflightCheck;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What `start --dry-run` prints: the plan (null when none can be made) and every check `start` makes before
 * it reserves or spawns anything. The command exits with the first failed check's status.
 */
record DryRun(PartitionPlan plan, List<PreflightCheck> checks) {
    DryRun {
        checks = List.copyOf(checks);
    }

    /** The error `start` would fail with now, if any. */
    Optional<EnclaveException> firstFailure() {
        return checks.stream().filter(c -> !c.passed()).map(PreflightCheck::failure).findFirst();
    }

    String describe() {
        StringBuilder s = new StringBuilder();
        if (plan != null) {
            s.append(plan.describe());
        }
        s.append("checks\n");
        for (PreflightCheck c : checks) {
            s.append(String.format("  %-4s  %-10s %s%n", c.passed() ? "ok" : "FAIL", c.name(),
                    c.passed() ? c.detail() : c.failure().code().id() + " " + c.detail()));
        }
        s.append(firstFailure().map(e -> "start would fail (" + e.code().id() + ", exit status "
                + e.exitStatus().code() + ")").orElse("start would go ahead")).append('\n');
        return s.toString();
    }

    /** snake_case for the JSON printer: plan, checks [{name, passed, detail, error}], would_start. */
    Map<String, Object> asJson() {
        List<Map<String, Object>> list = new ArrayList<>();
        for (PreflightCheck c : checks) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", c.name());
            m.put("passed", c.passed());
            m.put("detail", c.detail());
            m.put("error", c.passed() ? null : ErrorReporter.asMap(c.failure()));
            list.add(m);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("plan", plan);
        json.put("checks", list);
        json.put("would_start", firstFailure().isEmpty());
        return json;
    }
}
