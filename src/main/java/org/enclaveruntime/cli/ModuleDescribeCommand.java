package org.enclaveruntime.cli;

import org.enclaveruntime.module.SignedModule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;

/** `enclavectl module describe MODULE`: measurement, signer, limits, segments and imports of a checked module. */
@Command(name = "describe", mixinStandardHelpOptions = true,
        description = {"Show a module's measurement (MRENCLAVE), signer (MRSIGNER), ProdID, ISVSVN, debug "
                + "attribute, limits, segments and imports.",
                "The module is checked first as the loader would (ELF, relocations and, if signed, measurement and "
                        + "signature): a module that fails is refused, never described."})
final class ModuleDescribeCommand implements Runnable {
    @Parameters(paramLabel = "MODULE", description = "The module file (signed or not).")
    Path module;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        ModuleDescription d = ModuleDescription.of(SignedModule.open(module));
        output.print(spec.commandLine().getOut(), d, d::text);
    }
}
