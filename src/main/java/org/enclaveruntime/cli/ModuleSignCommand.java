package org.enclaveruntime.cli;

import org.enclaveruntime.module.EnclaveConfig;
import org.enclaveruntime.module.ModuleKeys;
import org.enclaveruntime.module.ModuleSigner;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;

/** `enclavectl module sign --key KEY --config Enclave.config.xml MODULE --out SIGNED`. */
@Command(name = "sign", mixinStandardHelpOptions = true,
        description = {"Measure a module and write it with its signature structure appended to --out FILE "
                + "(replaced atomically). The unsigned module stays as it is. A signed input is signed again "
                + "from its unsigned part.",
                "--config Enclave.config.xml (required) is SGX's enclave configuration: ProdID, ISVSVN, StackMaxSize, "
                        + "HeapMaxSize, TCSNum, DisableDebug. Module commands read no enclave.conf, so here the "
                        + "global --config names this file."},
        footer = {"", "Keys (unencrypted PEM):",
                "  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -pkeyopt rsa_keygen_pubexp:3 -out key.pem",
                "  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out key.pem"})
final class ModuleSignCommand implements Runnable {
    @Option(names = "--key", required = true, paramLabel = "KEY.pem",
            description = "Private key, PEM: RSA-3072 (PKCS#8 or PKCS#1, exponent 3 allowed) or EC P-384 (PKCS#8 or SEC1).")
    Path key;

    /** --config is the global option (inherited); module commands read no enclave.conf, so here it names the XML. */
    @ParentCommand
    ModuleCommand parent;

    @Parameters(paramLabel = "MODULE", description = "The unsigned module (ELF shared object).")
    Path module;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the signed module.")
    Path out;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        Path config = parent.root.global.config();
        if (config == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "Missing required option: '--config=Enclave.config.xml'");
        }
        EnclaveConfig settings = EnclaveConfig.read(config);
        ModuleSigner signer = new ModuleSigner(ModuleKeys.readSigningKey(key), settings);
        ModuleDescription d = ModuleDescription.of(signer.signTo(module, out));
        output.print(spec.commandLine().getOut(), d, () -> "signed " + d.path() + " (" + d.keyType() + ")\n"
                + "  mrenclave  " + d.mrenclave() + "\n  mrsigner   " + d.mrsigner() + "\n");
    }
}
