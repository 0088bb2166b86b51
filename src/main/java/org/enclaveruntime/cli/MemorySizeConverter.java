package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigKeys;
import org.enclaveruntime.config.InvalidValueException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * `--memory` of `image build`, in MiB: the same words and limits as the configuration's `memory` key (the
 * image's default memory becomes exactly that key's value), so one parser decides what a size is.
 */
final class MemorySizeConverter implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
        try {
            return Math.toIntExact(ConfigKeys.MEMORY.type().parse(value.trim()) >> 20);
        } catch (InvalidValueException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
