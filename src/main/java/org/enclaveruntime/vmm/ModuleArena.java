package org.enclaveruntime.vmm;

/**
 * The module arena of docs/module-runtime.md, section 1: [gpa, gpa + size), whole 2 MiB regions mapped with
 * 4 KiB pages that start not present; size 0 means none.
 */
record ModuleArena(long gpa, long size) {
    static final ModuleArena NONE = new ModuleArena(0, 0);
    static final long PAGE = 0x1000;

    ModuleArena {
        if (gpa < 0 || size < 0 || gpa % 0x200000 != 0 || size % 0x200000 != 0 || gpa > Long.MAX_VALUE - size) {
            throw new IllegalArgumentException("module arena 0x" + Long.toHexString(gpa) + " + 0x"
                    + Long.toHexString(size));
        }
    }

    long end() {
        return gpa + size;
    }

    int pages() {
        return (int) (size / PAGE);
    }

    /** Whether [start, start + length) lies inside the arena; overflow-safe for any inputs. */
    boolean contains(long start, long length) {
        return size > 0 && length >= 0 && start >= gpa && start <= end() && length <= end() - start;
    }
}
