package org.enclaveruntime.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `--memory` of `image build`: "512M", "2G", "64MiB", "1GiB", converted to MiB. As in the configuration's
 * sizes, a bare number and the decimal-sounding MB/GB are refused rather than guessed at.
 */
final class MemorySizeConverter implements ITypeConverter<Integer> {
    private static final Pattern SIZE = Pattern.compile("(\\d{1,9})\\s*(M|MIB|G|GIB)");

    @Override
    public Integer convert(String value) {
        Matcher m = SIZE.matcher(value.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new TypeConversionException("'" + value + "' is not a memory size; write a whole number and "
                    + "the unit M or G (powers of 1024), e.g. 512M or 2G");
        }
        long mib = Long.parseLong(m.group(1)) * (m.group(2).startsWith("G") ? 1024 : 1);
        if (mib > Integer.MAX_VALUE) {
            throw new TypeConversionException("'" + value + "' is too large");
        }
        return (int) mib;
    }
}
