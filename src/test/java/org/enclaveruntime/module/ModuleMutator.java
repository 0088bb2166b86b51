package org.enclaveruntime.module;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Mutants of a module for the fuzz and parity tests: each seed gives one to four mutations aimed at the bytes the
 * parser reads (ELF header, program headers, dynamic section, relocation and symbol tables), sometimes anywhere,
 * or a shorter length. The mutant is made in place in {@link #work()}; {@link #restore()} undoes it, so a million
 * mutants cost no copies. The same seed gives the same mutant on every run and machine.
 */
final class ModuleMutator {
    private static final long[] INTERESTING = {0, 1, -1, 2, 3, 6, 7, 8, 16, 24, 0x7f, 0x80, 0xff, 0xfff, 0x1000,
            0x1001, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL, 1L << 32, Long.MAX_VALUE, Long.MIN_VALUE,
            0x6ffffef5L, 22, 30, 36};

    private final byte[] original;
    private final byte[] work;
    private final int[] regions;
    private final int[] touched = new int[4 * 8];
    private int touchedCount;

    /** {@code original} must be the test module's layout (it has a PT_DYNAMIC and a PT_LOAD at file offset 0). */
    ModuleMutator(byte[] original) {
        this.original = original.clone();
        this.work = original.clone();
        this.regions = regions(original);
    }

    /** The mutant's bytes (valid until the next {@link #restore()}); parse its first {@link #mutate} bytes. */
    byte[] work() {
        return work;
    }

    byte[] original() {
        return original.clone();
    }

    /** Mutates {@link #work()} as {@code seed} says and returns the length of the mutant. */
    int mutate(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int length = original.length;
        int mutations = 1 + r.nextInt(4);
        touchedCount = 0;
        for (int m = 0; m < mutations; m++) {
            int kind = r.nextInt(100);
            if (kind < 5) {
                length = r.nextInt(original.length + 1);
                continue;
            }
            int at = position(r);
            if (kind < 55) {
                touched[touchedCount++] = at;
                work[at] = (byte) (r.nextBoolean() ? r.nextInt(256) : work[at] ^ (1 << r.nextInt(8)));
            } else {
                at = Math.min(at & ~7, original.length - 8);
                long v = INTERESTING[r.nextInt(INTERESTING.length)];
                if (r.nextInt(4) == 0) {
                    v += ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN).getLong(at);
                }
                TestModule.le(work).putLong(at, v);
                for (int k = 0; k < 8; k++) {
                    touched[touchedCount++] = at + k;
                }
            }
        }
        return length;
    }

    /** How many byte positions the last {@link #mutate} wrote (with repeats), and which. */
    int touchedCount() {
        return touchedCount;
    }

    int touched(int k) {
        return touched[k];
    }

    void restore() {
        for (int k = 0; k < touchedCount; k++) {
            work[touched[k]] = original[touched[k]];
        }
        touchedCount = 0;
    }

    boolean restored() {
        return Arrays.equals(original, work);
    }

    /** Start and end of the bytes the parser reads: ELF and program headers, then the first PT_LOAD's file bytes
     * (dynamic symbols, strings, relocations), then PT_DYNAMIC. */
    private static int[] regions(byte[] elf) {
        int phEnd = TestModule.phdr(elf, TestModule.phnum(elf));
        int firstLoad = TestModule.phdr(elf, TestModule.header(elf, TestModule.PT_LOAD, 0));
        int loadEnd = (int) TestModule.le(elf).getLong(firstLoad + 32);
        int dyn = TestModule.phdr(elf, TestModule.header(elf, TestModule.PT_DYNAMIC, 0));
        int dynStart = (int) TestModule.le(elf).getLong(dyn + 8);
        int dynEnd = dynStart + (int) TestModule.le(elf).getLong(dyn + 32);
        return new int[] {0, phEnd, phEnd, loadEnd, dynStart, dynEnd};
    }

    private int position(SplittableRandom r) {
        int which = r.nextInt(10);
        if (which == 9) {
            return r.nextInt(original.length);
        }
        int k = which < 4 ? 0 : which < 6 ? 1 : 2;
        return regions[2 * k] + r.nextInt(regions[2 * k + 1] - regions[2 * k]);
    }
}
