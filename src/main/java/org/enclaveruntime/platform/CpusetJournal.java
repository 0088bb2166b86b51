package org.enclaveruntime.platform;

import java.util.ArrayList;
import java.util.List;

/**
 * What isolate = cpuset changed, in order, for the state file: {@link CpusetIsolation#giveBack} undoes it in
 * reverse, at stop or, after a crash, at the next start or stop.
 *
 * @param bootId  the boot the changes were made in: cgroups do not survive a reboot, and the files of the
 *                new boot's cgroups must not be overwritten with the old boot's values
 * @param changes the changes, oldest first
 */
public record CpusetJournal(String bootId, List<CpusetChange> changes) {
    public CpusetJournal {
        changes = List.copyOf(changes);
    }

    CpusetJournal plus(List<? extends CpusetChange> added) {
        List<CpusetChange> more = new ArrayList<>(changes);
        more.addAll(added);
        return new CpusetJournal(bootId, more);
    }
}
