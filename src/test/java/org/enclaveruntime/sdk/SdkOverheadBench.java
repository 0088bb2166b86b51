package org.enclaveruntime.sdk;

import org.enclaveruntime.cli.CliRun;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host's share of an ECALL: `enclavectl bench ecall` against {@link ScriptedEnclave} (a Java peer on a Unix
 * socket answering at once), so the SDK, the socket round trip and the peer, without vsock or the enclave. Run by
 * hand: {@code java -cp target/test-classes:target/classes:CP org.enclaveruntime.sdk.SdkOverheadBench [calls]}.
 */
public final class SdkOverheadBench {
    private SdkOverheadBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("sdk-bench");
        try (ScriptedEnclave enclave = new ScriptedEnclave(dir.resolve("v.sock"), new EnclaveModuleProtocolTest.Good())) {
            Path config = dir.resolve("enclave.conf");
            Files.writeString(config, "[vsock]\nsocket = " + enclave.socket + "\n");
            Path module = new SignedTestModule().signTo(SignedTestModule.bytes(SignedTestModule.built("test-module.so")),
                    SignedTestModule.PRODUCTION, dir.resolve("m.signed.so"));
            for (int round = 0; round < 3; round++) {
                CliRun r = CliRun.of("bench", "ecall", "--config", config.toString(), "--module", module.toString(),
                        "--calls", args.length > 0 ? args[0] : "20000");
                System.out.print(r.out() + r.err());
            }
        }
    }
}
