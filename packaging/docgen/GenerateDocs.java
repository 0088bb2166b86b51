import org.enclaveruntime.cli.EnclaveCtl;
import org.enclaveruntime.config.ConfigKey;
import org.enclaveruntime.config.ConfigKeys;
import org.enclaveruntime.cli.Completion;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.codegen.docgen.manpage.ManPageGenerator;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Build-time generator (packaging/rpm/build-rpm.sh runs it as a single-file program, with the build's classes
 * and picocli-codegen on the class path): from the picocli model, one AsciiDoc man page per visible command
 * (ManPageGenerator), enclave.conf(5) from the configuration table (ConfigKeys.ALL), and the bash completion
 * script (AutoComplete). Asciidoctor turns the pages into troff afterwards.
 *
 * usage: java -cp CLASSES GenerateDocs.java OUTDIR   (writes OUTDIR/adoc/*.adoc and OUTDIR/completion/enclavectl)
 */
public class GenerateDocs {
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Path adoc = Files.createDirectories(out.resolve("adoc"));
        CommandLine cli = EnclaveCtl.fullCommandLine();
        for (CommandSpec spec : visible(cli.getCommandSpec(), new ArrayList<>())) {
            String name = spec.qualifiedName("-");
            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(adoc.resolve(name + ".adoc")))) {
                ManPageGenerator.writeSingleManPage(w, spec);
            }
        }
        Files.writeString(adoc.resolve("enclave.conf.adoc"), configPage());
        Path completion = Files.createDirectories(out.resolve("completion"));
        Files.writeString(completion.resolve("enclavectl"), Completion.bash());
        Files.writeString(completion.resolve("_enclavectl"), Completion.zsh());
    }

    /** The command and its subcommands, without hidden ones (vmm, cds-training) and `help`. */
    private static List<CommandSpec> visible(CommandSpec spec, List<CommandSpec> into) {
        into.add(spec);
        for (CommandLine sub : spec.subcommands().values()) {
            CommandSpec s = sub.getCommandSpec();
            if (!s.usageMessage().hidden() && !s.name().equals("help") && !into.contains(s)) {
                visible(s, into);
            }
        }
        return into;
    }

    private static String configPage() {
        StringBuilder s = new StringBuilder();
        s.append(":doctype: manpage\n:manmanual: enclavectl Manual\n:mansource: enclavectl\n:man-linkstyle: pass:[blue R < >]\n");
        s.append("= enclave.conf(5)\n\n== Name\n\nenclave.conf - configuration of the enclave of this instance\n\n");
        s.append("== Synopsis\n\n*/etc/enclave.conf*\n\n");
        s.append("== Description\n\n");
        s.append("An INI file read by *enclavectl*(1) and the *de_platform_service* unit. Sections are written "
                + "*[section]*, keys *key = value*; lines starting with *;* or *#* are comments. Sizes need a unit "
                + "(K, M or G, powers of 1024), durations one of ms, s or m.\n\n");
        s.append("A value is taken from, in this order: a command-line flag, *--config* FILE, the file named by "
                + "*$ENCLAVE_CONF*, */etc/enclave.conf*, the built-in default shown below. "
                + "*enclavectl config check* validates a file; *enclavectl config show* prints every value and where it "
                + "came from.\n\n");
        for (String section : ConfigKeys.SECTIONS) {
            s.append("== Section [").append(section).append("]\n\n");
            for (ConfigKey<?> key : ConfigKeys.ALL) {
                if (key.section().equals(section)) {
                    s.append("*").append(key.name()).append("* = _").append(key.defaultText().orElse("(not set)"))
                            .append("_::\n  ").append(capitalised(key.doc())).append(".\n\n");
                }
            }
        }
        s.append("== Files\n\n*/etc/enclave.conf*::\n  The configuration; kept on package removal when edited.\n\n");
        s.append("== See also\n\n*enclavectl*(1), *enclavectl-config-check*(1), *enclavectl-doctor*(1), "
                + "*systemctl*(1)\n");
        return s.toString();
    }

    private static String capitalised(String text) {
        return text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
    }
}
