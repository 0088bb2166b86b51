package org.enclaveruntime.config;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/** One word out of a closed set (an enum), matched without regard to case. */
record ChoiceType<E extends Enum<E>>(List<E> choices, Function<E, String> word) implements ValueType<E> {
    ChoiceType(E[] choices, Function<E, String> word) {
        this(List.of(choices), word);
    }

    @Override
    public E parse(String text) throws InvalidValueException {
        for (E choice : choices) {
            if (word.apply(choice).toLowerCase(Locale.ROOT).equals(text.toLowerCase(Locale.ROOT))) {
                return choice;
            }
        }
        throw new InvalidValueException(ConfigErrors.BAD_CHOICE,
                InvalidValueException.quote(text) + " is not one of " + allowed());
    }

    @Override
    public String format(E value) {
        return word.apply(value);
    }

    @Override
    public String allowed() {
        return choices.stream().map(word).collect(Collectors.joining(", "));
    }
}
