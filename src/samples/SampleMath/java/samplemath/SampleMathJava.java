package samplemath;

import org.enclaveruntime.sdk.EnclaveCallException;
import org.enclaveruntime.sdk.EnclaveModule;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.file.Path;

/**
 * SampleMath's Java twin: the same points, the same enclave.signed.so, the same three lines as the C++ app,
 * through the proxy `enclavectl sdk edger8r --java` generates from Enclave.edl (EnclaveProxy) over the SDK's
 * EnclaveModule. Usage: {@code java -cp enclavectl.jar:SampleMathJava.jar samplemath.SampleMathJava [ENCLAVE]}
 * (default: enclave.signed.so in the current directory).
 */
public final class SampleMathJava {
    private static final int[][][] POINTS = {
        {{3, 4}, {1, 8}},
        {{6, 9}, {6, 2}},
        {{3, 3}, {7, 5}},
    };

    private SampleMathJava() {
    }

    public static void main(String[] args) {
        Path file = Path.of(args.length > 0 ? args[0] : "enclave.signed.so");
        try (EnclaveModule module = EnclaveModule.load(file)) {
            Enclave enclave = new EnclaveProxy(new EdlModuleTransport(module), new EnclaveOcalls() { });
            for (int[][] p : POINTS) {
                double distance = enclave.ecall_distance(p[0], p[1]);
                System.out.println("A(" + p[0][0] + "," + p[0][1] + ") -> B(" + p[1][0] + "," + p[1][1] + ") -> "
                        + iostreamDefault(distance));
            }
        } catch (EnclaveCallException e) {
            System.err.println("Error: " + file + ": " + e);   // the status name, its value, the reason
            System.exit(1);
        }
    }

    /**
     * {@code d} as C++'s {@code std::cout << d} prints it by default (printf's %g with precision 6): the exact
     * binary value rounded to six significant digits, ties to even as glibc does, trailing zeros dropped,
     * scientific notation below 1e-4 or from 1e6 on.
     */
    static String iostreamDefault(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return 1 / d < 0 ? "-0" : "0";
        }
        BigDecimal rounded = new BigDecimal(d).round(new MathContext(6, RoundingMode.HALF_EVEN));
        int exponent = rounded.precision() - rounded.scale() - 1;
        if (exponent < -4 || exponent >= 6) {
            BigDecimal mantissa = rounded.movePointLeft(exponent).stripTrailingZeros();
            String e = String.format("%02d", Math.abs(exponent));
            return mantissa.toPlainString() + "e" + (exponent < 0 ? "-" : "+") + e;
        }
        return rounded.stripTrailingZeros().toPlainString();
    }
}
