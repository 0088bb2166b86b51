package org.enclaveruntime.systemd;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.kvm.KvmErrors;
import org.enclaveruntime.testing.NotifyReceiver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** sd_notify datagrams over real Unix sockets, received the way systemd receives them. */
class SystemdNotifierTest {
    @TempDir
    Path dir;

    @Test
    void sendsToASocketPath() throws Exception {
        try (NotifyReceiver systemd = new NotifyReceiver(dir.resolve("notify").toString())) {
            SystemdNotifier notifier = SystemdNotifier.of(Map.of("NOTIFY_SOCKET", systemd.socketName()));
            assertTrue(notifier.active());
            notifier.status("booting 1 vCPU(s)");
            notifier.ready("enclave\nrunning");
            assertEquals("STATUS=booting 1 vCPU(s)", systemd.await(m -> true, 5));
            assertEquals("READY=1\nSTATUS=enclave running", systemd.await(m -> true, 5),
                    "a newline inside a value would end the assignment early");
        }
    }

    @Test
    void sendsToAnAbstractName() throws Exception {
        String name = "@enclavectl-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifyReceiver systemd = new NotifyReceiver(name)) {
            SystemdNotifier notifier = SystemdNotifier.of(Map.of("NOTIFY_SOCKET", name));
            notifier.stopping("stopping the enclave");
            assertEquals("STOPPING=1\nSTATUS=stopping the enclave", systemd.await(m -> true, 5));
            EnclaveException e = new EnclaveException(KvmErrors.KVM_MISSING, "/dev/kvm does not exist on this host");
            notifier.failing(e);
            assertEquals("STATUS=error E400: /dev/kvm does not exist on this host", systemd.await(m -> true, 5));
        }
    }

    @Test
    void withoutTheVariableOrWithABadNameItTellsNoOne() {
        assertFalse(SystemdNotifier.of(Map.of()).active());
        assertFalse(SystemdNotifier.of(Map.of("NOTIFY_SOCKET", "relative/path")).active());
        assertFalse(SystemdNotifier.of(Map.of("NOTIFY_SOCKET", "/" + "x".repeat(200))).active());
        SystemdNotifier.of(Map.of()).ready("nothing happens");
    }

    @Test
    void aSocketThatIsGoneDoesNotStopTheCaller() {
        SystemdNotifier notifier = SystemdNotifier.of(Map.of("NOTIFY_SOCKET", dir.resolve("nobody").toString()));
        notifier.ready("nobody listens"); // logged once, not thrown
        notifier.status("still nobody");
    }

    @Test
    void addressesAreWhatTheKernelExpects() {
        byte[] path = SystemdNotifier.sockaddr("/run/systemd/notify");
        assertEquals(2 + "/run/systemd/notify".length() + 1, path.length);
        assertEquals(1, path[0]);
        assertEquals(0, path[path.length - 1]);
        byte[] abstractName = SystemdNotifier.sockaddr("@x/notify");
        assertEquals(2 + "@x/notify".length(), abstractName.length, "no terminating NUL in the abstract namespace");
        assertEquals(0, abstractName[2]);
        assertEquals('x', abstractName[3]);
        assertNull(SystemdNotifier.sockaddr("@"));
    }
}
