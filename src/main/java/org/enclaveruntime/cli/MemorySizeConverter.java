package org.enclaveruntime.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** "512M", "2G", "64MiB", "1GiB"; a bare number is MiB. Converts to MiB. */
final class MemorySizeConverter implements ITypeConverter<Integer> {
    private static final Pattern SIZE = Pattern.compile("(\\d{1,9})\\s*([MG])?(?:I?B)?");

    @Override
    public Integer convert(String value) {
        Matcher m = SIZE.matcher(value.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new TypeConversionException("'" + value + "' is not a memory size; use for example 512M or 2G");
        }
        long mib = Long.parseLong(m.group(1)) * ("G".equals(m.group(2)) ? 1024 : 1);
        if (mib > Integer.MAX_VALUE) {
            throw new TypeConversionException("'" + value + "' is too large");
        }
        return (int) mib;
    }
}
