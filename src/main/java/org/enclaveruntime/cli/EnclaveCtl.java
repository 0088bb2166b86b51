package org.enclaveruntime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The enclavectl command. This class and {@link Wiring} are where the program is assembled: the
 * subcommands are listed here, and each lives in a class of its own.
 */
@Command(name = "enclavectl",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Manage the enclave of this instance: an isolated VM carved out of this VM's CPUs and "
                + "memory, reachable only through vsock.",
        footer = {"", "Exit codes: 0 ok, 1 failure, 2 usage, 3 config, 4 state conflict, 5 resources, 6 KVM, "
                + "7 image, 8 enclave failed, 70 internal. See docs/exit-codes.md.",
                "Run `enclavectl explain CODE` for the long form of an error code."})
public final class EnclaveCtl implements Runnable {
    @Mixin
    GlobalOptions global;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * The subcommands, in the order `--help` lists them. The one place they are listed: {@link #run} builds
     * picocli's model of only the command that runs (building all of them, by reflection over every option,
     * was a third of `status`'s start-up), and of all of them when help, a suggestion or a usage error may
     * need the full list.
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(
            StartCommand.class,
            StopCommand.class,
            RestartCommand.class,
            StatusCommand.class,
            ConsoleCommand.class,
            VmmCommand.class,
            ExplainCommand.class,
            ConfigCommand.class,
            DoctorCommand.class,
            ImageCommand.class,
            ModuleCommand.class,
            BenchCommand.class,
            SdkCommand.class,
            CdsTrainingCommand.class,
            CommandLine.HelpCommand.class);

    /** Runs one command line and returns the exit status; tests call this instead of main. */
    public static int run(String... args) {
        OptionalInt shortcut = StatusShortcut.run(args);
        return shortcut.isPresent() ? shortcut.getAsInt() : runWithPicocli(args);
    }

    /** {@link #run} without {@link StatusShortcut}: every command line through picocli. */
    static int runWithPicocli(String... args) {
        CommandLine cli = new CommandLine(new EnclaveCtl());
        Optional<Class<?>> only = commandNamed(firstCommandWord(args));
        if (only.isPresent()) {
            cli.addSubcommand(only.get());
        } else {
            SUBCOMMANDS.forEach(cli::addSubcommand);
        }
        versionEverywhere(cli);
        // Help and long texts wrap at the terminal's width (80 columns when there is no terminal).
        cli.setUsageHelpAutoWidth(true);
        cli.setHelpFactory(WordWrappingHelp::new);
        ErrorReporter reporter = new ErrorReporter();
        cli.setExecutionExceptionHandler(reporter);
        cli.setParameterExceptionHandler(reporter);
        return cli.execute(args);
    }

    /**
     * The whole command tree, every subcommand built: what the man pages and the shell completion are
     * generated from (packaging/docgen).
     */
    public static CommandLine fullCommandLine() {
        CommandLine cli = new CommandLine(new EnclaveCtl());
        SUBCOMMANDS.forEach(cli::addSubcommand);
        versionEverywhere(cli);
        cli.setHelpFactory(WordWrappingHelp::new);
        return cli;
    }

    /** `-V` prints enclavectl's version on every subcommand too, not only on the top command. */
    private static void versionEverywhere(CommandLine cli) {
        for (CommandLine sub : cli.getSubcommands().values()) {
            sub.getCommandSpec().versionProvider(new VersionProvider());
            versionEverywhere(sub);
        }
    }

    /**
     * The word where picocli will look for the subcommand: the first argument that is not a global option
     * or the value of one. Null when there is none, or when an argument (`--`, an @-file, an option this
     * scan does not know) could change how picocli reads the rest; then every subcommand is built.
     */
    static String firstCommandWord(String... args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--config")) {
                i++;
            } else if (a.startsWith("--config=") || a.equals("-v") || a.equals("--verbose")) {
                continue;
            } else if (a.startsWith("-") || a.startsWith("@")) {
                return null;
            } else {
                return a;
            }
        }
        return null;
    }

    /** The subcommand class named {@code name}; empty for none, an unknown name, and `help` (it needs all). */
    private static Optional<Class<?>> commandNamed(String name) {
        if (name == null || name.equals("help")) {
            return Optional.empty();
        }
        return SUBCOMMANDS.stream().filter(c -> c.getAnnotation(Command.class).name().equals(name)).findFirst();
    }
}
