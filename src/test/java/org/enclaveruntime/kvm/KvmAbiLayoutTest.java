package org.enclaveruntime.kvm;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every number of the KVM bindings (ioctl requests, capabilities, exit reasons, struct sizes and field
 * offsets) and of the kick signal's struct sigaction, compared with what gcc says from the kernel's and
 * libc's headers. src/test/c/kvm_layout.c prints "NAME VALUE" for each Java constant.
 */
class KvmAbiLayoutTest {
    @Test
    void javaLayoutMatchesTheKernelHeaders() throws Exception {
        Map<String, Long> c = compileAndRun();
        Map<String, Long> java = new TreeMap<>();
        collect(KvmAbi.class, "", java);
        for (Class<?> nested : KvmAbi.class.getDeclaredClasses()) {
            collect(nested, nested.getSimpleName() + ".", java);
        }
        collect(Class.forName("org.enclaveruntime.vmm.KickSignal"), "KickSignal.", java);
        assertTrue(java.size() > 100, "found only " + java.size() + " constants");
        for (Map.Entry<String, Long> e : java.entrySet()) {
            assertTrue(c.containsKey(e.getKey()), e.getKey() + " is not checked by kvm_layout.c");
            assertEquals(c.get(e.getKey()), e.getValue(), e.getKey());
        }
        for (String name : c.keySet()) {
            assertTrue(java.containsKey(name), "kvm_layout.c prints " + name + " which the Java side lacks");
        }
    }

    private static void collect(Class<?> type, String prefix, Map<String, Long> into) throws IllegalAccessException {
        for (Field f : type.getDeclaredFields()) {
            int m = f.getModifiers();
            if (!Modifier.isStatic(m) || !Modifier.isFinal(m) || Modifier.isPrivate(m)
                    || (f.getType() != int.class && f.getType() != long.class)) {
                continue;
            }
            f.setAccessible(true);
            into.put(prefix + f.getName(), ((Number) f.get(null)).longValue());
        }
    }

    private static Map<String, Long> compileAndRun() throws IOException, InterruptedException {
        Path project = Path.of(System.getProperty("enclave.project.dir", "."));
        Path build = Path.of(System.getProperty("enclave.build.dir", "target"));
        Files.createDirectories(build);
        Path exe = build.resolve("kvm_layout");
        run(new ProcessBuilder("gcc", "-Wall", "-Werror", "-o", exe.toString(),
                project.resolve("src/test/c/kvm_layout.c").toString()));
        String out = run(new ProcessBuilder(exe.toString()));
        Map<String, Long> values = new TreeMap<>();
        for (String line : out.split("\n")) {
            String[] parts = line.trim().split(" ");
            if (parts.length == 2) {
                values.put(parts[0], Long.parseUnsignedLong(parts[1]));
            }
        }
        return values;
    }

    private static String run(ProcessBuilder pb) throws IOException, InterruptedException {
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + pb.command());
        assertEquals(0, p.exitValue(), pb.command() + " failed:\n" + out);
        return out;
    }
}
