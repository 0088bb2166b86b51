package org.enclaveruntime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** `enclavectl image ...`: build, inspect, sign and verify enclave images (docs/image-format.md). */
@Command(name = "image", mixinStandardHelpOptions = true,
        description = "Build, describe, sign and verify enclave images.",
        subcommands = {ImageBuildCommand.class, ImageDescribeCommand.class, ImageSignCommand.class,
                ImageVerifyCommand.class, CommandLine.HelpCommand.class})
final class ImageCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "an image command is required "
                + "(build, describe, sign, verify)");
    }
}
