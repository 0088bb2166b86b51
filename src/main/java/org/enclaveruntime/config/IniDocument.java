package org.enclaveruntime.config;

import java.util.List;

/**
 * A configuration file as written, before any key is understood: sections in file order, each with its
 * entries in file order, with line numbers. Repeated sections and keys are kept, so that they can be
 * reported rather than silently merged.
 */
record IniDocument(String fileLabel, List<Section> sections) {
    record Section(String name, int line, List<Entry> entries) {
    }

    /** @param value the text after '=', trimmed, inline comment still attached */
    record Entry(String key, String value, int line) {
    }
}
