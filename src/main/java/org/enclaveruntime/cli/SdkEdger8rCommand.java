package org.enclaveruntime.cli;

import org.enclaveruntime.sdk.edl.Edger8r;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** `enclavectl sdk edger8r [--trusted|--untrusted] [--search-path DIR]... Enclave.edl`: SGX's sgx_edger8r. */
@Command(name = "edger8r", mixinStandardHelpOptions = true,
        description = {"Read an EDL file (SGX's Enclave Definition Language) and write the bridges: NAME_t.h and "
                + "NAME_t.c for the enclave, NAME_u.h and NAME_u.c for the application, with SGX edger8r's "
                + "function signatures and the marshalling of docs/sdk-edl.md.",
                "Imports are looked up next to the importing file, then in each --search-path in order. Nothing "
                        + "is written when the EDL is refused."})
final class SdkEdger8rCommand implements Runnable {
    @Parameters(paramLabel = "FILE.edl", description = "The EDL file.")
    Path edl;

    @Option(names = "--trusted", description = "Write only the enclave's files (NAME_t.h, NAME_t.c).")
    boolean trustedOnly;

    @Option(names = "--untrusted", description = "Write only the application's files (NAME_u.h, NAME_u.c).")
    boolean untrustedOnly;

    @Option(names = "--search-path", paramLabel = "DIR", description = "A directory to look for imported EDL files in (repeatable).")
    List<Path> searchPath = new ArrayList<>();

    @Option(names = "--trusted-dir", paramLabel = "DIR", defaultValue = ".",
            description = "Where to write NAME_t.h and NAME_t.c (default: ${DEFAULT-VALUE}).")
    Path trustedDir;

    @Option(names = "--untrusted-dir", paramLabel = "DIR", defaultValue = ".",
            description = "Where to write NAME_u.h and NAME_u.c (default: ${DEFAULT-VALUE}).")
    Path untrustedDir;

    @Option(names = "--java", paramLabel = "PACKAGE",
            description = "Also write a typed Java interface and proxy in this package (needs --java-dir).")
    String javaPackage;

    @Option(names = "--java-dir", paramLabel = "DIR", description = "Source root for --java (the package's directories are created under it).")
    Path javaDir;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        if (trustedOnly && untrustedOnly) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--trusted and --untrusted exclude each other (give neither to write both halves)");
        }
        if ((javaPackage == null) != (javaDir == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--java and --java-dir go together");
        }
        if (javaPackage != null && !javaPackage.matches("[a-zA-Z_][a-zA-Z0-9_]*(\\.[a-zA-Z_][a-zA-Z0-9_]*)*")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--java " + javaPackage
                    + " is not a Java package name (e.g. com.example.enclave)");
        }
        Edger8r.Result r = Edger8r.run(new Edger8r.Request(edl, searchPath, !untrustedOnly, !trustedOnly,
                trustedDir, untrustedDir, javaPackage, javaDir));
        r.warnings().forEach(w -> spec.commandLine().getErr().println("warning: " + w));
        spec.commandLine().getErr().flush();
        output.print(spec.commandLine().getOut(), r, () -> "generated " + r.ecalls() + " ECALL(s) and "
                + r.ocalls() + " OCALL(s) from " + r.edl() + "\n  " + String.join("\n  ", r.files()) + "\n");
    }
}
