package org.enclaveruntime.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.function.Supplier;

/** `--output text|json` for commands whose output is data. JSON field names are snake_case. */
public final class OutputOptions {
    public enum Format { text, json }

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Format format = Format.text;

    public boolean json() {
        return format == Format.json;
    }

    /** Prints {@code data} as JSON, or the text that {@code text} renders. */
    public void print(PrintWriter out, Object data, Supplier<String> text) {
        if (json()) {
            out.println(toJson(data));
        } else {
            String rendered = text.get();
            out.print(rendered.endsWith("\n") ? rendered : rendered + "\n");
        }
        out.flush();
    }

    /**
     * Prints the JSON that {@code json} renders, or the text that {@code text} renders: for data with a JSON
     * codec of its own, so that printing it does not start Jackson databind.
     */
    public void printRendered(PrintWriter out, Supplier<String> json, Supplier<String> text) {
        String rendered = json() ? json.get() + "\n" : text.get();
        out.print(rendered.endsWith("\n") ? rendered : rendered + "\n");
        out.flush();
    }

    public static String toJson(Object data) {
        try {
            return Json.MAPPER.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render " + data.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** Lazily built: constructing an ObjectMapper costs start-up time that text output should not pay. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper()
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .findAndRegisterModules();
    }
}
