package org.enclaveruntime.vmm;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

/**
 * The signal that knocks a vCPU thread out of KVM_RUN. KVM returns EINTR from KVM_RUN when a signal is
 * pending for the thread, but only if the signal has a handler (an ignored signal is never delivered) and
 * that handler was installed without SA_RESTART (otherwise the ioctl is restarted).
 *
 * <p>The handler must be native code, because a Java upcall from a signal handler is unsafe. Rather than
 * generate code, it is libc's getpid: it takes no arguments (the signal number passed in rdi is ignored), is
 * async-signal-safe, touches no memory and its return value is dropped. Its only effect is that the signal
 * counts as handled, which is all KVM needs.
 *
 * <p>The signal is SIGRTMIN+3 (37 with glibc, whose SIGRTMIN is 34): HotSpot on Linux uses SIGSEGV, SIGBUS,
 * SIGILL, SIGFPE, SIGTRAP, SIGPIPE, SIGXFSZ, SIGQUIT, SIGHUP/SIGINT/SIGTERM (shutdown hooks) and SIGUSR2
 * (thread suspend/resume), no real-time signal. A stray delivery to another thread of this process is
 * harmless: at most one system call of that thread returns EINTR, which the JVM retries.
 */
final class KickSignal {
    private KickSignal() {
    }

    static final int SIGNAL = 37;
    // glibc's struct sigaction on x86-64 (checked against <signal.h> by KvmAbiLayoutTest)
    static final int SIGACTION_SIZE = 152;
    static final int SA_HANDLER = 0;
    static final int SA_MASK = 8;
    static final int SA_FLAGS = 136;

    private static final long PID = ProcessHandle.current().pid();
    private static boolean installed;

    static synchronized void install() {
        if (installed) {
            return;
        }
        LibC libc = LibC.INSTANCE;
        long handler = libc.dlsym(0, "getpid");
        if (handler == 0) {
            throw new EnclaveException(VmmErrors.KICK_SIGNAL, "cannot find getpid in libc for signal " + SIGNAL);
        }
        Runtime runtime = Runtime.getSystemRuntime();
        Pointer action = Memory.allocateDirect(runtime, SIGACTION_SIZE, true);
        Pointer old = Memory.allocateDirect(runtime, SIGACTION_SIZE, true);
        action.putLong(SA_HANDLER, handler);
        libc.sigemptyset(action.slice(SA_MASK));
        action.putInt(SA_FLAGS, 0);
        if (libc.sigaction(SIGNAL, action, old) != 0) {
            throw new EnclaveException(VmmErrors.KICK_SIGNAL, "sigaction(" + SIGNAL + ") failed: "
                    + Native.describe(Native.errno()));
        }
        long previous = old.getLong(SA_HANDLER);
        if (previous != 0 && previous != handler) {
            libc.sigaction(SIGNAL, old, null);
            throw new EnclaveException(VmmErrors.KICK_SIGNAL, "signal " + SIGNAL
                    + " already has a handler at 0x" + Long.toHexString(previous));
        }
        installed = true;
    }

    /** Sends the kick signal to one thread of this process. */
    static void send(int tid) {
        LibC.INSTANCE.syscall(Native.SYS_TGKILL, PID, tid, SIGNAL);
    }
}
