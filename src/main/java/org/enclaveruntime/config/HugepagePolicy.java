package org.enclaveruntime.config;

/** runtime.hugepages: which pages back the enclave's memory. */
public enum HugepagePolicy {
    /** 1G pages when the memory size allows and they are available, else 2M, else normal pages. */
    AUTO("auto"),
    SIZE_2M("2M"),
    SIZE_1G("1G"),
    /** Normal 4K pages: slower, but needs no reservation. */
    OFF("off");

    private final String word;

    HugepagePolicy(String word) {
        this.word = word;
    }

    /** The word in the configuration file. */
    public String word() {
        return word;
    }
}
