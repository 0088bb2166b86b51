package org.enclaveruntime.cli;

import picocli.CommandLine.IVersionProvider;

/** The version stamped into the jar's manifest by the build; "development" when run from classes. */
public final class VersionProvider implements IVersionProvider {
    public static String version() {
        String v = EnclaveCtl.class.getPackage().getImplementationVersion();
        return v == null ? "development" : v;
    }

    @Override
    public String[] getVersion() {
        return new String[] {"enclavectl " + version(),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
    }
}
