package org.enclaveruntime.cli;

import org.enclaveruntime.module.ModuleKeys;
import org.enclaveruntime.module.SignedModule;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;

/** `enclavectl module verify MODULE [--key PUB.pem | --cert CERT.pem]`: what the loader checks, and who signed. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check a signed module as the loader does before any of it runs: ELF, segments, "
                + "relocations, size against HeapMaxSize, measurement, MRSIGNER and signature.",
                "With --key or --cert the signer must also be that key. An unsigned module fails (E810)."})
final class ModuleVerifyCommand implements Runnable {
    @Parameters(paramLabel = "MODULE", description = "The signed module.")
    Path module;

    static final class Signer {
        @Option(names = "--key", paramLabel = "PUB.pem",
                description = "The signer's public key (PEM PUBLIC KEY), or its private key file.")
        Path key;

        @Option(names = "--cert", paramLabel = "CERT.pem",
                description = "A certificate (PEM) of the signer's key, valid now.")
        Path cert;
    }

    @ArgGroup(exclusive = true)
    Signer signer;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        SignedModule m = SignedModule.open(module);
        m.requireSigned();
        String checkedAgainst = null;
        if (signer != null && signer.key != null) {
            m.requireSigner(ModuleKeys.readPublicKey(signer.key), signer.key.toString());
            checkedAgainst = signer.key.toString();
        } else if (signer != null && signer.cert != null) {
            m.requireSigner(ModuleKeys.readCertificate(signer.cert), signer.cert.toString());
            checkedAgainst = signer.cert.toString();
        }
        ModuleDescription d = ModuleDescription.of(m);
        String against = checkedAgainst;
        output.print(spec.commandLine().getOut(), new Verdict(d.path(), true, against, d),
                () -> d.path() + ": OK (ELF, relocations, measurement, signature)\n"
                        + (against == null ? "  signer not checked (pass --key or --cert)\n" : "  signed by " + against + "\n")
                        + d.text().substring(d.text().indexOf('\n') + 1));
    }

    record Verdict(String path, boolean valid, String signerCheckedAgainst, ModuleDescription module) {
    }
}
