package org.enclaveruntime.linux;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.HeapInvocationBuffer;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import jnr.ffi.Pointer;

import java.nio.charset.StandardCharsets;

/**
 * The Linux C library calls enclavectl makes through JNR. One class for the whole program so that the
 * library is looked up once; callers read errno through {@link Native#errno()} right after a failure.
 * Only calls that Java's own library does not offer belong here.
 *
 * <p>The calls go through jffi, JNR's own native-call layer, with a call descriptor per function built once.
 * jnr-ffi's LibraryLoader, which this replaced, generated a proxy class with ASM at every start: 0.2 to 0.4
 * s of each VMM start, and its stub passed a wrong sixth argument (see {@link Native#mmap}). Variadic
 * functions (open, ioctl, syscall) are called as variadic, as the x86-64 ABI asks. Every call saves errno.
 * Pointer arguments are jnr-ffi direct pointers (or null), passed by address.
 */
public final class LibC {
    private static final Invoker CALL = Invoker.getInstance();
    private static final MemoryIO MEMORY = MemoryIO.getInstance();
    private static final Type INT = Type.SINT32;
    private static final Type LONG = Type.SINT64;
    private static final Type PTR = Type.POINTER;
    // After the constants above, which the constructor uses.
    public static final LibC INSTANCE = new LibC();

    private final Library libc = Library.getCachedInstance("libc.so.6", Library.LAZY | Library.GLOBAL);
    private final Function open = variadic("open", INT, 2, PTR, INT, INT);
    private final Function close = function("close", INT, INT);
    private final Function ioctl = variadic("ioctl", INT, 2, INT, Type.ULONG, PTR);
    private final Function munmap = function("munmap", INT, PTR, Type.ULONG);
    private final Function memfdCreate = function("memfd_create", INT, PTR, INT);
    private final Function ftruncate = function("ftruncate", INT, INT, LONG);
    private final Function eventfd = function("eventfd", INT, INT, INT);
    private final Function read = function("read", LONG, INT, PTR, Type.ULONG);
    private final Function schedSetaffinity = function("sched_setaffinity", INT, INT, Type.ULONG, PTR);
    private final Function schedGetaffinity = function("sched_getaffinity", INT, INT, Type.ULONG, PTR);
    private final Function syscall3 = variadic("syscall", LONG, 1, LONG, LONG, LONG, LONG);
    private final Function syscall6 = variadic("syscall", LONG, 1, LONG, LONG, LONG, LONG, LONG, LONG, LONG);
    private final Function getpid = function("getpid", INT);
    private final Function setsid = function("setsid", INT);
    private final Function sigaction = function("sigaction", INT, INT, PTR, PTR);
    private final Function strerror = function("strerror", PTR, INT);
    private final Function dup = function("dup", INT, INT);
    private final Function mincore = function("mincore", INT, PTR, Type.ULONG, PTR);
    private final Function sigemptyset = function("sigemptyset", INT, PTR);
    private final Function dlsym = function("dlsym", PTR, PTR, PTR);
    private final Function socket = function("socket", INT, INT, INT, INT);
    private final Function sendto = function("sendto", LONG, INT, PTR, Type.ULONG, INT, PTR, INT);
    private final Function write = function("write", LONG, INT, PTR, Type.ULONG);
    private final Function readv = function("readv", LONG, INT, PTR, INT);
    private final Function writev = function("writev", LONG, INT, PTR, INT);
    private final Function recv = function("recv", LONG, INT, PTR, Type.ULONG, INT);
    private final Function epollCreate1 = function("epoll_create1", INT, INT);
    private final Function epollCtl = function("epoll_ctl", INT, INT, INT, INT, PTR);
    private final Function epollWait = function("epoll_wait", INT, INT, PTR, INT, INT);
    private final Function bind = function("bind", INT, INT, PTR, INT);
    private final Function listen = function("listen", INT, INT, INT);
    private final Function accept4 = function("accept4", INT, INT, PTR, PTR, INT);
    private final Function connect = function("connect", INT, INT, PTR, INT);
    private final Function shutdown = function("shutdown", INT, INT, INT);
    private final Function getsockopt = function("getsockopt", INT, INT, INT, INT, PTR, PTR);
    private final Function socketpair = function("socketpair", INT, INT, INT, INT, PTR);

    private LibC() {
    }

    /** One C function: its address and how to call it. */
    private record Function(String name, long address, CallContext context) {
    }

    private Function function(String name, Type result, Type... parameters) {
        return new Function(name, symbol(name),
                CallContext.getCallContext(result, parameters, CallingConvention.DEFAULT, true));
    }

    private Function variadic(String name, Type result, int fixed, Type... parameters) {
        return new Function(name, symbol(name),
                CallContext.getCallContext(result, fixed, parameters, CallingConvention.DEFAULT, true));
    }

    private long symbol(String name) {
        long address = libc.getSymbolAddress(name);
        if (address == 0) {
            throw new UnsatisfiedLinkError("libc.so.6 has no " + name + ": " + Library.getLastError());
        }
        return address;
    }

    private static long address(Pointer p) {
        if (p == null) {
            return 0;
        }
        if (!p.isDirect()) {
            throw new IllegalArgumentException("a native call needs native memory, not " + p);
        }
        return p.address();
    }

    /** A C string in native memory; the caller frees it. */
    private static long cString(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        long address = MEMORY.allocateMemory(bytes.length + 1, true);
        if (address == 0) {
            throw new OutOfMemoryError("cannot allocate " + (bytes.length + 1) + " bytes of native memory");
        }
        MEMORY.putZeroTerminatedByteArray(address, bytes, 0, bytes.length);
        return address;
    }

    private static int i(Function f, long a0) {
        return (int) CALL.invokeN1(f.context(), f.address(), a0);
    }

    private static int i(Function f, long a0, long a1) {
        return (int) CALL.invokeN2(f.context(), f.address(), a0, a1);
    }

    private static int i(Function f, long a0, long a1, long a2) {
        return (int) CALL.invokeN3(f.context(), f.address(), a0, a1, a2);
    }

    public int open(String path, int flags, int mode) {
        long p = cString(path);
        try {
            return i(open, p, flags, mode);
        } finally {
            MEMORY.freeMemory(p);
        }
    }

    public int close(int fd) {
        return i(close, fd);
    }

    public int ioctl(int fd, long request, Pointer arg) {
        return i(ioctl, fd, request, address(arg));
    }

    public int ioctl(int fd, long request, long arg) {
        return i(ioctl, fd, request, arg);
    }

    public int munmap(long addr, long length) {
        return i(munmap, addr, length);
    }

    public int memfd_create(String name, int flags) {
        long p = cString(name);
        try {
            return i(memfdCreate, p, flags);
        } finally {
            MEMORY.freeMemory(p);
        }
    }

    public int ftruncate(int fd, long length) {
        return i(ftruncate, fd, length);
    }

    public int eventfd(int initval, int flags) {
        return i(eventfd, initval, flags);
    }

    public long read(int fd, Pointer buf, long count) {
        return CALL.invokeN3(read.context(), read.address(), fd, address(buf), count);
    }

    public int sched_setaffinity(int pid, long cpusetsize, Pointer mask) {
        return i(schedSetaffinity, pid, cpusetsize, address(mask));
    }

    public int sched_getaffinity(int pid, long cpusetsize, Pointer mask) {
        return i(schedGetaffinity, pid, cpusetsize, address(mask));
    }

    public long syscall(long number, long a0, long a1, long a2) {
        return CALL.invokeN4(syscall3.context(), syscall3.address(), number, a0, a1, a2);
    }

    public long syscall(long number, long a0, long a1, long a2, long a3, long a4, long a5) {
        // Seven arguments are one more than jffi's direct numeric calls take: through its argument buffer.
        HeapInvocationBuffer args = new HeapInvocationBuffer(syscall6.context());
        for (long a : new long[] {number, a0, a1, a2, a3, a4, a5}) {
            args.putLong(a);
        }
        return CALL.invokeLong(syscall6.context(), syscall6.address(), args);
    }

    public int getpid() {
        return (int) CALL.invokeN0(getpid.context(), getpid.address());
    }

    public int setsid() {
        return (int) CALL.invokeN0(setsid.context(), setsid.address());
    }

    public int sigaction(int signum, Pointer act, Pointer oldact) {
        return i(sigaction, signum, address(act), address(oldact));
    }

    public String strerror(int errnum) {
        long message = CALL.invokeN1(strerror.context(), strerror.address(), errnum);
        return message == 0 ? "errno " + errnum
                : new String(MEMORY.getZeroTerminatedByteArray(message), StandardCharsets.UTF_8);
    }

    public int dup(int fd) {
        return i(dup, fd);
    }

    public int mincore(long addr, long length, Pointer vec) {
        return i(mincore, addr, length, address(vec));
    }

    public int sigemptyset(Pointer set) {
        return i(sigemptyset, address(set));
    }

    /** Address of a symbol in the already loaded libraries (handle 0 = RTLD_DEFAULT); 0 if not found. */
    public long dlsym(long handle, String symbol) {
        long p = cString(symbol);
        try {
            return CALL.invokeN2(dlsym.context(), dlsym.address(), handle, p);
        } finally {
            MEMORY.freeMemory(p);
        }
    }

    public int socket(int domain, int type, int protocol) {
        return i(socket, domain, type, protocol);
    }

    /** sendto(2) of {@code message} to the socket address {@code address} (a struct sockaddr's bytes). */
    public long sendto(int fd, byte[] message, int flags, byte[] address) {
        // One block: the address first, then the message.
        long size = address.length + message.length;
        long block = MEMORY.allocateMemory(size, false);
        if (block == 0) {
            throw new OutOfMemoryError("cannot allocate " + size + " bytes of native memory");
        }
        try {
            MEMORY.putByteArray(block, address, 0, address.length);
            MEMORY.putByteArray(block + address.length, message, 0, message.length);
            return CALL.invokeN6(sendto.context(), sendto.address(), fd, block + address.length, message.length,
                    flags, block, address.length);
        } finally {
            MEMORY.freeMemory(block);
        }
    }

    // The calls below take raw native addresses (a direct buffer's or guest RAM's), not jnr Pointers: the vsock
    // event thread makes them for every packet, and wrapping an address in a Pointer would allocate.

    public long read(int fd, long buf, long count) {
        return CALL.invokeN3(read.context(), read.address(), fd, buf, count);
    }

    public long write(int fd, long buf, long count) {
        return CALL.invokeN3(write.context(), write.address(), fd, buf, count);
    }

    /** readv(2) into {@code count} struct iovec at {@code iov}. */
    public long readv(int fd, long iov, int count) {
        return CALL.invokeN3(readv.context(), readv.address(), fd, iov, count);
    }

    /** writev(2) from {@code count} struct iovec at {@code iov}. */
    public long writev(int fd, long iov, int count) {
        return CALL.invokeN3(writev.context(), writev.address(), fd, iov, count);
    }

    public long recv(int fd, long buf, long length, int flags) {
        return CALL.invokeN4(recv.context(), recv.address(), fd, buf, length, flags);
    }

    public int epoll_create1(int flags) {
        return i(epollCreate1, flags);
    }

    /** epoll_ctl(2) with the struct epoll_event (12 bytes, packed on x86-64) at {@code event}. */
    public int epoll_ctl(int epfd, int op, int fd, long event) {
        return (int) CALL.invokeN4(epollCtl.context(), epollCtl.address(), epfd, op, fd, event);
    }

    public int epoll_wait(int epfd, long events, int maxEvents, int timeoutMs) {
        return (int) CALL.invokeN4(epollWait.context(), epollWait.address(), epfd, events, maxEvents, timeoutMs);
    }

    public int bind(int fd, long sockaddr, int length) {
        return i(bind, fd, sockaddr, length);
    }

    public int listen(int fd, int backlog) {
        return i(listen, fd, backlog);
    }

    /** accept4(2) without the peer's address (a Unix client's is unnamed anyway). */
    public int accept4(int fd, int flags) {
        return (int) CALL.invokeN4(accept4.context(), accept4.address(), fd, 0, 0, flags);
    }

    public int connect(int fd, long sockaddr, int length) {
        return i(connect, fd, sockaddr, length);
    }

    public int shutdown(int fd, int how) {
        return i(shutdown, fd, how);
    }

    /** getsockopt(2): the option's value goes to {@code value}, its length to the socklen_t at {@code length}. */
    public int getsockopt(int fd, int level, int name, long value, long length) {
        return (int) CALL.invokeN5(getsockopt.context(), getsockopt.address(), fd, level, name, value, length);
    }

    /** socketpair(2): the two descriptors go into the int[2] at {@code fds}. */
    public int socketpair(int domain, int type, int protocol, long fds) {
        return (int) CALL.invokeN4(socketpair.context(), socketpair.address(), domain, type, protocol, fds);
    }
}
