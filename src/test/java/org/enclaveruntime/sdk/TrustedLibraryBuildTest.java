package org.enclaveruntime.sdk;

import org.enclaveruntime.cli.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An SGX-style enclave built the way docs/sdk.md "Building a module" says, against the kit in target/enclave-sdk
 * (mvn generate-resources builds it): its EDL imports sgx_tstdc.edl, found through --search-path; the generated
 * trusted bridges compile against the trusted library's headers; the module links with libde_trts and imports
 * nothing but the runtime API table's names.
 */
class TrustedLibraryBuildTest {
    /** docs/module-runtime.md section 2, API version 2. */
    private static final Set<String> API = Set.of("enclave_api_version", "enclave_api_print", "enclave_ocall",
            "enclave_heap_alloc", "enclave_heap_free", "enclave_module_range", "memcpy", "memmove", "memset",
            "memcmp", "strlen");

    @TempDir
    Path dir;

    private static final Path SDK = Path.of(System.getProperty("enclave.build.dir", "target"), "enclave-sdk");

    @Test
    void sgxStyleEnclaveBuildsAgainstTheKit() throws Exception {
        assertTrue(Files.isRegularFile(SDK.resolve("lib/libde_trts.a")), SDK + " is not built (mvn generate-resources)");
        Files.writeString(dir.resolve("Enclave.edl"), """
                enclave {
                    from "sgx_tstdc.edl" import *;
                    trusted {
                        public double ecall_distance(double x1, double y1, double x2, double y2);
                        public int ecall_describe([in, string] const char *name, [out, size=len] char *buf, size_t len);
                    };
                    untrusted {
                        void ocall_print([in, string] const char *text) propagate_errno;
                    };
                };
                """);
        Files.writeString(dir.resolve("Enclave.c"), """
                #include <math.h>
                #include <stdio.h>
                #include <stdlib.h>
                #include <string.h>
                #include "sgx_trts.h"
                #include "sgx_tcrypto.h"
                #include "Enclave_t.h"

                double ecall_distance(double x1, double y1, double x2, double y2)
                {
                    return sqrt(pow(x2 - x1, 2) + (y2 - y1) * (y2 - y1));
                }

                int ecall_describe(const char *name, char *buf, size_t len)
                {
                    char *copy = malloc(strlen(name) + 1);
                    if (!copy || !sgx_is_within_enclave(buf, len))
                        return -1;
                    strcpy(copy, name);
                    sgx_sha256_hash_t h;
                    sgx_sha256_msg((const uint8_t *)copy, (uint32_t)strlen(copy), &h);
                    int n = snprintf(buf, len, "%s %02x%02x %g", copy, h[0], h[1], floor(2.5));
                    free(copy);
                    ocall_print(buf);
                    return n;
                }
                """);
        CliRun r = CliRun.of("sdk", "edger8r", "--trusted", "--search-path",
                SDK.resolve("include").toString(), "--trusted-dir", dir.toString(), dir.resolve("Enclave.edl").toString());
        assertEquals(0, r.status(), r.toString());
        Path so = dir.resolve("enclave.so");
        String gccInclude = run(List.of("gcc", "-print-file-name=include")).trim();
        List<String> cc = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror",
                "-ffreestanding", "-nostdinc", "-isystem", gccInclude, "-fPIC", "-fvisibility=hidden", "-march=x86-64",
                "-mno-sse3", "-mno-avx", "-fno-stack-protector", "-fcf-protection=none",
                "-fno-asynchronous-unwind-tables", "-I" + SDK.resolve("include/tlibc"), "-I" + SDK.resolve("include"),
                "-shared", "-nostdlib", "-Wl,--build-id=none", "-Wl,-z,max-page-size=0x1000", "-Wl,-z,separate-code",
                "-Wl,-z,noexecstack", "-Wl,--hash-style=gnu", "-o", so.toString(), dir.resolve("Enclave.c").toString(),
                dir.resolve("Enclave_t.c").toString(), "-L" + SDK.resolve("lib"), "-lde_trts"));
        run(cc);
        Set<String> imports = new TreeSet<>();
        for (String line : run(List.of("readelf", "--dyn-syms", "-W", so.toString())).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 8 && f[6].equals("UND") && !f[7].isEmpty()) {
                imports.add(f[7]);
            }
        }
        assertTrue(API.containsAll(imports), "imports " + imports + " are all in the runtime API table " + API);
        assertTrue(imports.contains("enclave_heap_alloc") && imports.contains("enclave_ocall"), imports.toString());
        assertTrue(run(List.of("readelf", "--dyn-syms", "-W", so.toString())).contains("enclave_ecalls"),
                "the ECALL table is exported");
    }

    private String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
        assertEquals(0, p.exitValue(), command + " failed:\n" + out);
        return out;
    }
}
