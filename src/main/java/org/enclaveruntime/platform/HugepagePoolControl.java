package org.enclaveruntime.platform;

/**
 * nr_hugepages of one pool: what {@link HugepageReservation} reads and writes. An interface because the
 * kernel's interesting answer, "fewer pages than asked", cannot be produced safely on a shared test machine:
 * tests put a pool in front of a fake tree that gives at most a set number.
 */
interface HugepagePoolControl {
    long read(PageSize size, int node);

    /** Asks for {@code pages} in the pool; the kernel may settle on fewer, so callers read back. */
    void write(PageSize size, int node, long pages);

    /** The file, for messages. */
    String describe(PageSize size, int node);

    static HugepagePoolControl sysfs(SysfsFiles sys) {
        return new HugepagePoolControl() {
            @Override
            public long read(PageSize size, int node) {
                return sys.readLong(file(size, node), PlatformErrors.HUGEPAGE_CONTROL);
            }

            @Override
            public void write(PageSize size, int node, long pages) {
                sys.writeLong(file(size, node), pages, PlatformErrors.HUGEPAGE_CONTROL);
            }

            @Override
            public String describe(PageSize size, int node) {
                return sys.resolve(file(size, node)).toString();
            }

            private String file(PageSize size, int node) {
                return MemoryReader.poolDir(size, node) + "/nr_hugepages";
            }
        };
    }
}
