package org.enclaveruntime.sdk.edl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The generated Java compiles, and its caller and callee halves agree byte for byte: Loop.edl's ECALL i has
 * the signature of its OCALL i, and a loopback transport answers ECALL i with OCALL i's handler.
 */
class JavaProxyTest {
    @TempDir
    Path work;

    @Test
    void proxyRoundTripsEveryJavaMappingThroughTheGeneratedOcallBridge() throws Exception {
        Edger8r.Result r = Edger8r.run(new Edger8r.Request(Path.of("src/test/resources/edl/java/Loop.edl"), List.of(),
                false, false, work, work, "gen.loop", work.resolve("src")));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> args = new ArrayList<>(List.of("-d", work.resolve("classes").toString(), "-cp",
                System.getProperty("java.class.path")));
        args.addAll(r.files());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, javac.run(null, null, err, args.toArray(String[]::new)), err.toString());

        Map<Integer, EdlTransport.OcallHandler> handlers = new HashMap<>();
        EdlTransport loopback = new EdlTransport() {
            @Override
            public byte[] call(int index, byte[] in, int outCapacity) {
                return handlers.get(index).handle(in, outCapacity);
            }

            @Override
            public void onOcall(int index, OcallHandler handler) {
                handlers.put(index, handler);
            }
        };
        try (URLClassLoader loader = new URLClassLoader(new URL[]{work.resolve("classes").toUri().toURL()},
                getClass().getClassLoader())) {
            Class<?> ocallsType = loader.loadClass("gen.loop.LoopOcalls");
            Object ocalls = Proxy.newProxyInstance(loader, new Class<?>[]{ocallsType}, (proxy, m, a) -> ocall(m, a));
            Object enclave = loader.loadClass("gen.loop.LoopProxy").getConstructor(EdlTransport.class, ocallsType)
                    .newInstance(loopback, ocalls);
            Class<?> api = loader.loadClass("gen.loop.Loop");

            Method scalars = api.getMethod("e_scalars", byte.class, short.class, int.class, long.class, float.class,
                    double.class);
            assertEquals(-8 + 2 * 300 + 3 * 70000 + 4 * 5 + 6 + 7,
                    scalars.invoke(enclave, (byte) -8, (short) 300, 70000, 5_000_000_000L, 6.5f, 7.25));

            int[] in = {1, 2, 3};
            int[] out = {9, 9, 9};
            double[] io = {0.5, 1.5, 2.5};
            Method buffers = api.getMethod("e_buffers", int[].class, int[].class, double[].class, long.class, byte[].class);
            assertEquals(6 + 3 * 100, buffers.invoke(enclave, in, out, io, 3L, new byte[]{1, 2, 3}));
            assertArrayEquals(new int[]{2, 4, 6}, out);
            assertArrayEquals(new double[]{1.0, 3.0, 5.0}, io);

            StringBuilder sb = new StringBuilder("abc");
            Method strings = api.getMethod("e_strings", String.class, String.class, StringBuilder.class);
            assertEquals(5L + 10 * 3, strings.invoke(enclave, "héllo", "wïde", sb));
            assertEquals("ABC", sb.toString());

            Method userCheck = api.getMethod("e_user_check", long.class);
            assertEquals(0xdead_beef_1234L + 1, userCheck.invoke(enclave, 0xdead_beef_1234L));

            // A hostile answer: the callee bridge refuses a buffer cut short, and one with trailing bytes.
            byte[] good = new EdlCodec.Writer().i64(4).raw(new byte[]{'a', 'b', 'c', 0}).i64(NULLS).i64(NULLS).toArray();
            handlers.get(2).handle(good, 1024);
            assertThrows(IllegalArgumentException.class, () -> handlers.get(2).handle(
                    java.util.Arrays.copyOf(good, good.length - 1), 1024));
            byte[] noNul = new EdlCodec.Writer().i64(3).raw(new byte[]{'a', 'b', 'c'}).i64(NULLS).i64(NULLS).toArray();
            assertThrows(IllegalArgumentException.class, () -> handlers.get(2).handle(noNul, 1024));
            assertThrows(IllegalArgumentException.class, () -> handlers.get(3).handle(new byte[16], 1024));
        }
    }

    private static final long NULLS = EdlCodec.NULL_LEN;

    /** The "host" side: what each OCALL computes from what the proxy sent. */
    private static Object ocall(Method m, Object[] a) {
        switch (m.getName()) {
            case "o_scalars":
                return (byte) a[0] + 2 * (short) a[1] + 3 * (int) a[2] + (int) ((long) a[3] / 1_000_000_000L) * 4
                        + (int) (float) a[4] + (int) (double) a[5];
            case "o_buffers": {
                int[] in = (int[]) a[0];
                int[] out = (int[]) a[1];
                double[] io = (double[]) a[2];
                byte[] raw = (byte[]) a[4];
                int sum = 0;
                for (int i = 0; i < in.length; i++) {
                    sum += in[i];
                    out[i] = in[i] * 2;
                    io[i] = io[i] * 2;
                }
                return sum + raw.length * 100;
            }
            case "o_strings": {
                if (a[1] == null || a[2] == null) {
                    return -1L;
                }
                StringBuilder io = (StringBuilder) a[2];
                String up = io.toString().toUpperCase();
                io.setLength(0);
                io.append(up);
                return (long) (((String) a[0]).length() + 10 * (((String) a[1]).codePointCount(0, ((String) a[1]).length()) - 1));
            }
            case "o_user_check":
                return (long) a[0] + 1;
            default:
                throw new AssertionError(m.getName());
        }
    }
}
