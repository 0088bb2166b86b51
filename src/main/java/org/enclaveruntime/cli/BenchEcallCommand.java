package org.enclaveruntime.cli;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.sdk.EnclaveCallException;
import org.enclaveruntime.sdk.EnclaveModule;
import org.enclaveruntime.sdk.SdkErrors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * `enclavectl bench ecall`: ECALL latency and rate against the running enclave, through the Java SDK as an
 * application calls (one thread, one call connection). The module must follow the test module's contract
 * (docs/module-runtime.md section 6, "The test module's ECALLs"): ECALL 0 empty, ECALL 1 echo.
 */
@Command(name = "ecall", mixinStandardHelpOptions = true,
        description = {"Measure ECALLs into the running enclave: an empty ECALL, and one with 4 KiB in and 4 KiB "
                + "out (p50 and p99 latency in microseconds, calls per second).",
                "Loads MODULE (ECALL 0 empty, ECALL 1 echo: the test module, signed) into the enclave that "
                        + "[vsock] socket of the configuration names, and unloads it at the end."})
final class BenchEcallCommand implements Runnable {
    static final int EMPTY = 0;
    static final int ECHO = 1;
    static final int BUFFER = 4096;

    @ParentCommand
    BenchCommand bench;

    @Option(names = "--module", paramLabel = "MODULE", required = true,
            description = "The signed module to call (ECALL 0 empty, ECALL 1 echo): the test module, signed "
                    + "(docs/sdk.md says how).")
    Path module;

    @Option(names = "--calls", paramLabel = "N", defaultValue = "10000",
            description = "Measured calls of each kind, after a warm-up of N/10 (default: ${DEFAULT-VALUE}).")
    int calls;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    /** p50 and p99 in microseconds, and the rate over the whole run of one kind. */
    record Result(double p50Us, double p99Us, long callsPerS, int calls) {
        static Result of(long[] nanos, long totalNanos) {
            long[] sorted = nanos.clone();
            Arrays.sort(sorted);
            return new Result(round(percentile(sorted, 50) / 1e3), round(percentile(sorted, 99) / 1e3),
                    Math.round(sorted.length / (totalNanos / 1e9)), sorted.length);
        }

        /** Nearest rank: the smallest value that at least p percent of the samples do not exceed. */
        static long percentile(long[] sorted, int p) {
            int rank = (int) Math.ceil(p / 100.0 * sorted.length);
            return sorted[Math.max(0, rank - 1)];
        }

        private static double round(double us) {
            return Math.round(us * 10) / 10.0;
        }

        String text(String what) {
            return String.format(Locale.ROOT, "%-22s p50 %8.1f us   p99 %8.1f us   %8d calls/s   (%d calls)%n",
                    what, p50Us, p99Us, callsPerS, calls);
        }
    }

    /** The JSON: the empty call at the top level, the 4 KiB call under buffer_4k. */
    record Report(String module, double p50Us, double p99Us, long callsPerS, int calls,
                  @com.fasterxml.jackson.annotation.JsonProperty("buffer_4k") Result buffer4k) {
    }

    @Override
    public void run() {
        if (calls < 1) {
            throw new EnclaveException(GeneralErrors.USAGE, "--calls " + calls + ": give at least 1");
        }
        Path socket = Wiring.forCommand(bench.root.global).config().vsockSocket();
        EnclaveModule m;
        try {
            m = EnclaveModule.load(module, socket);
        } catch (EnclaveCallException e) {
            throw SdkErrors.of(e, true);
        }
        Result empty;
        Result buffer;
        try (m) {
            empty = measure(m, false);
            buffer = measure(m, true);
        } catch (EnclaveCallException e) {
            throw SdkErrors.of(e, false);
        }
        Report r = new Report(module.toString(), empty.p50Us(), empty.p99Us(), empty.callsPerS(), empty.calls(), buffer);
        output.print(spec.commandLine().getOut(), r, () -> "ECALLs into " + module + " through " + socket + "\n"
                + empty.text("empty ECALL") + buffer.text("4 KiB in, 4 KiB out"));
    }

    private Result measure(EnclaveModule m, boolean withBuffers) {
        ByteBuffer in = ByteBuffer.allocateDirect(withBuffers ? BUFFER : 0);
        ByteBuffer out = ByteBuffer.allocateDirect(withBuffers ? BUFFER : 0);
        byte[] pattern = new byte[in.capacity()];
        new Random(1).nextBytes(pattern);
        in.put(pattern);
        int index = withBuffers ? ECHO : EMPTY;
        // The first call checks the module keeps the contract, so that a wrong module is an error, not a number.
        int got = call(m, index, in, out);
        byte[] back = new byte[got];
        out.get(0, back);
        if (!Arrays.equals(back, pattern)) {
            throw new EnclaveException(SdkErrors.CALL_FAILED, "ECALL " + index + " of " + module + " answered "
                    + got + " bytes " + (withBuffers ? "that are not its input" : "instead of none")
                    + ": not a module with ECALL 0 empty and ECALL 1 echo");
        }
        for (int i = 0; i < Math.max(1, calls / 10); i++) {
            call(m, index, in, out);
        }
        long[] nanos = new long[calls];
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            call(m, index, in, out);
            nanos[i] = System.nanoTime() - t0;
        }
        return Result.of(nanos, System.nanoTime() - start);
    }

    private static int call(EnclaveModule m, int index, ByteBuffer in, ByteBuffer out) {
        in.rewind();
        out.clear();
        return m.call(index, in, out);
    }
}
