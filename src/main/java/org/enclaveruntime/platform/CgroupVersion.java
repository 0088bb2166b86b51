package org.enclaveruntime.platform;

/** Which cgroup hierarchy holds the cpuset controller. */
public enum CgroupVersion {
    /** The legacy hierarchy: a mount of its own (e.g. /sys/fs/cgroup/cpuset), also on hybrid systems. */
    V1,
    /** The unified hierarchy (cgroup2), with cpuset among its controllers. */
    V2
}
