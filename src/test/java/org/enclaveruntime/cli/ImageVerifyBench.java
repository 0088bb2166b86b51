package org.enclaveruntime.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark, not a test: `java -cp target/enclavectl.jar:target/test-classes org.enclaveruntime.cli.ImageVerifyBench [DIR]`.
 * Builds and signs a 64 MiB image (32 MiB random runtime payload, 32 MiB random initrd), then times
 * `image describe` and `image verify --cert` (in-process, and as a fresh `java -jar` process) next to
 * `sha384sum` of the same file. Median of 5 after one warm-up; the file is in the page cache for all.
 */
public final class ImageVerifyBench {
    private static final int RUNS = 5;
    private static final int HALF = 32 << 20;

    private ImageVerifyBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("image-bench");
        Files.createDirectories(dir);
        SecureRandom random = new SecureRandom();
        Path runtime = Files.write(dir.resolve("runtime.elf"), elfWithPayload(HALF, random));
        Path kernel = Files.write(dir.resolve("kernel"), randomBytes(4096, random));
        Path initrd = Files.write(dir.resolve("initrd"), randomBytes(HALF, random));
        Path image = dir.resolve("bench-image.bin");
        Path key = dir.resolve("key.pem");
        Path cert = dir.resolve("cert.pem");
        makeKeyAndCert(dir, key, cert);
        check(EnclaveCtl.run("image", "build", "--runtime", runtime.toString(), "--kernel", kernel.toString(),
                "--initrd", initrd.toString(), "--cmdline", "console=ttyS0", "--name", "bench", "--out", image.toString()),
                "build");
        check(EnclaveCtl.run("image", "sign", "--key", key.toString(), "--cert", cert.toString(), image.toString()),
                "sign");

        String jar = EnclaveCtl.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        long sha = median(() -> process("sha384sum", image.toString()));
        long describe = median(() -> inProcess("image", "describe", "--output", "json", image.toString()));
        long verify = median(() -> inProcess("image", "verify", "--cert", cert.toString(), image.toString()));
        boolean isJar = jar.endsWith(".jar");
        long describeCold = isJar ? median(() -> process(java, "-jar", jar, "image", "describe", image.toString())) : -1;
        long verifyCold = isJar ? median(() -> process(java, "-jar", jar, "image", "verify", "--cert",
                cert.toString(), image.toString())) : -1;
        long javaStartup = isJar ? median(() -> process(java, "-jar", jar, "--version")) : -1;

        System.out.printf("image: %d bytes (%s), signed; %d runs each, median; page cache warm%n",
                Files.size(image), image, RUNS);
        System.out.printf("%-40s %8.1f ms%n", "sha384sum", sha / 1e6);
        System.out.printf("%-40s %8.1f ms  %.2fx sha384sum%n", "describe --output json (in-process)", describe / 1e6,
                (double) describe / sha);
        System.out.printf("%-40s %8.1f ms  %.2fx sha384sum%n", "verify --cert (in-process)", verify / 1e6,
                (double) verify / sha);
        if (isJar) {
            System.out.printf("%-40s %8.1f ms  %.2fx sha384sum%n", "java -jar ... image describe", describeCold / 1e6,
                    (double) describeCold / sha);
            System.out.printf("%-40s %8.1f ms  %.2fx sha384sum%n", "java -jar ... image verify --cert",
                    verifyCold / 1e6, (double) verifyCold / sha);
            System.out.printf("%-40s %8.1f ms%n", "java -jar ... --version (JVM start)", javaStartup / 1e6);
        }
    }

    private interface Timed {
        long run() throws Exception;
    }

    private static long median(Timed t) throws Exception {
        t.run(); // warm-up: page cache, JIT, class loading
        List<Long> times = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            times.add(t.run());
        }
        Collections.sort(times);
        return times.get(RUNS / 2);
    }

    private static long inProcess(String... args) {
        PrintStream out = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            long start = System.nanoTime();
            check(EnclaveCtl.run(args), String.join(" ", args));
            return System.nanoTime() - start;
        } finally {
            System.setOut(out);
        }
    }

    private static long process(String... command) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed");
        }
        return System.nanoTime() - start;
    }

    private static void check(int status, String what) {
        if (status != 0) {
            throw new IllegalStateException(what + " exited with " + status);
        }
    }

    /** An ELF64 x86-64 ET_EXEC whose one PT_LOAD at 1 MiB carries {@code payload} random bytes. */
    private static byte[] elfWithPayload(int payload, SecureRandom random) {
        int size = 64 + 56 + payload;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464C457F).put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1);
        b.putLong(24, 0x10_0000 + 120).putLong(32, 64);
        b.putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) 1);
        b.putInt(64, 1).putInt(68, 5).putLong(72, 0).putLong(80, 0x10_0000).putLong(88, 0x10_0000);
        b.putLong(96, size).putLong(104, size).putLong(112, 4096);
        byte[] bytes = b.array();
        byte[] fill = randomBytes(payload, random);
        System.arraycopy(fill, 0, bytes, 120, payload);
        return bytes;
    }

    private static byte[] randomBytes(int n, SecureRandom random) {
        byte[] b = new byte[n];
        new java.util.SplittableRandom(random.nextLong()).nextBytes(b);
        return b;
    }

    /** A P-384 key and self-signed certificate from the JDK's keytool, written out as PEM. */
    private static void makeKeyAndCert(Path dir, Path key, Path cert) throws Exception {
        Path store = dir.resolve("bench.p12");
        Files.deleteIfExists(store);
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        process(keytool, "-genkeypair", "-alias", "bench", "-keyalg", "EC", "-groupname", "secp384r1", "-sigalg",
                "SHA384withECDSA", "-dname", "CN=bench", "-validity", "30", "-keystore", store.toString(),
                "-storetype", "PKCS12", "-storepass", "benchpass");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            ks.load(in, "benchpass".toCharArray());
        }
        PrivateKey privateKey = (PrivateKey) ks.getKey("bench", "benchpass".toCharArray());
        X509Certificate certificate = (X509Certificate) ks.getCertificate("bench");
        Files.writeString(key, pem("PRIVATE KEY", privateKey.getEncoded()));
        Files.writeString(cert, pem("CERTIFICATE", certificate.getEncoded()));
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }
}
