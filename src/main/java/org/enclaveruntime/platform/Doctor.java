package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;

import java.util.ArrayList;
import java.util.List;

/** Runs doctor checks; one that throws is reported as FAIL and the others still run. */
public final class Doctor {
    private Doctor() {
    }

    public static List<DoctorFinding> run(List<DoctorCheck> checks) {
        List<DoctorFinding> findings = new ArrayList<>();
        for (DoctorCheck check : checks) {
            CheckResult r;
            try {
                r = check.run();
            } catch (EnclaveException e) {
                r = CheckResult.fail(e.code().id() + ": " + e.getMessage(), e.remedy());
            } catch (RuntimeException e) {
                EnclaveException bug = EnclaveException.unexpected(e);
                r = CheckResult.fail("the check itself failed: " + bug.getMessage(), bug.remedy());
            }
            findings.add(new DoctorFinding(check.name(), r.status(), r.detail(), r.remedy()));
        }
        return findings;
    }

    public static boolean anyFailed(List<DoctorFinding> findings) {
        return findings.stream().anyMatch(f -> f.status() == CheckStatus.FAIL);
    }

    /** Aligned lines: "OK    name      detail", with "remedy:" under every WARN and FAIL. */
    public static String render(List<DoctorFinding> findings) {
        int width = findings.stream().mapToInt(f -> f.check().length()).max().orElse(0);
        StringBuilder s = new StringBuilder();
        int[] counts = new int[CheckStatus.values().length];
        for (DoctorFinding f : findings) {
            counts[f.status().ordinal()]++;
            s.append(String.format("%-4s  %-" + width + "s  %s%n", f.status(), f.check(), f.detail()));
            if (f.status() != CheckStatus.OK && f.remedy() != null) {
                s.append(" ".repeat(6 + width)).append("remedy: ").append(f.remedy()).append('\n');
            }
        }
        s.append(String.format("%d ok, %d %s, %d failed%n", counts[0], counts[1], counts[1] == 1 ? "warning" : "warnings",
                counts[2]));
        return s.toString();
    }
}
