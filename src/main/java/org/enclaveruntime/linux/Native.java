package org.enclaveruntime.linux;

import com.kenai.jffi.LastError;

/** Constants and errno of the Linux x86-64 ABI that the JNR calls in {@link LibC} need. */
public final class Native {
    private Native() {
    }

    public static final int O_RDWR = 2;
    public static final int O_CLOEXEC = 0x80000;

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01;
    public static final long MAP_FAILED = -1L;

    public static final int MFD_CLOEXEC = 0x1;
    public static final int MFD_HUGETLB = 0x4;
    public static final int MFD_HUGE_SHIFT = 26;

    public static final int EFD_CLOEXEC = 0x80000;
    public static final int EFD_NONBLOCK = 0x800;

    public static final long SYS_GETTID = 186;
    public static final long SYS_TGKILL = 234;
    public static final long SYS_MLOCK2 = 325;
    public static final long SYS_MMAP = 9;

    public static final int MLOCK_ONFAULT = 1;

    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_PEEK = 0x2;
    public static final int SHUT_WR = 1;
    public static final int SOL_SOCKET = 1;
    public static final int SO_ERROR = 4;
    /** struct sockaddr_un: sa_family_t then 108 bytes of path. */
    public static final int SOCKADDR_UN_SIZE = 110;
    public static final int UNIX_PATH_MAX = 108;

    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLET = 1 << 31;
    /** struct epoll_event is packed on x86-64: u32 events, u64 data. */
    public static final int EPOLL_EVENT_SIZE = 12;
    public static final int IOVEC_SIZE = 16;

    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int ENOENT = 2;
    public static final int EPERM = 1;
    public static final int EPIPE = 32;
    public static final int EINPROGRESS = 115;
    public static final int ECONNRESET = 104;
    public static final int ECONNREFUSED = 111;
    public static final int EADDRINUSE = 98;

    public static int errno() {
        return LastError.getInstance().get();
    }

    public static String describe(int errno) {
        return LibC.INSTANCE.strerror(errno) + " (errno " + errno + ")";
    }

    /**
     * mmap(2) as a raw system call: jnr-ffi's generated stub for six-argument functions passes a wrong last
     * argument, so LibC.mmap fails with EINVAL; the seven-argument syscall(2) path is correct. Returns the
     * address, or {@link #MAP_FAILED} with errno set.
     */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        return LibC.INSTANCE.syscall(SYS_MMAP, addr, length, prot, flags, fd, offset);
    }

    /** The calling thread's kernel thread id, which is what sched_setaffinity and tgkill take. */
    public static int gettid() {
        return (int) LibC.INSTANCE.syscall(SYS_GETTID, 0, 0, 0);
    }
}
