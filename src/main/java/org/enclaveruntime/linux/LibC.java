package org.enclaveruntime.linux;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The Linux C library calls enclavectl makes through JNR. One interface for the whole program so that
 * the library is loaded once; callers read errno through {@link Native#errno()} right after a failure.
 * Only calls that Java's own library does not offer belong here.
 */
public interface LibC {
    LibC INSTANCE = LibraryLoader.create(LibC.class).load("c");

    int open(String path, int flags, int mode);

    int close(int fd);

    int ioctl(int fd, long request, Pointer arg);

    int ioctl(int fd, long request, long arg);

    /**
     * Broken through jnr-ffi 2.2's generated x86-64 stubs (the sixth argument, offset, arrives as garbage
     * and glibc returns EINVAL): use {@link Native#mmap} instead.
     */
    @Deprecated
    long mmap(long addr, @size_t long length, int prot, int flags, int fd, long offset);

    int munmap(long addr, @size_t long length);

    int madvise(long addr, @size_t long length, int advice);

    int mlock(long addr, @size_t long length);

    int munlock(long addr, @size_t long length);

    int memfd_create(String name, int flags);

    int ftruncate(int fd, long length);

    int eventfd(int initval, int flags);

    @ssize_t long read(int fd, @Out Pointer buf, @size_t long count);

    @ssize_t long write(int fd, @In Pointer buf, @size_t long count);

    int sched_setaffinity(int pid, @size_t long cpusetsize, @In Pointer mask);

    int sched_getaffinity(int pid, @size_t long cpusetsize, @Out Pointer mask);

    long syscall(long number, long a0, long a1, long a2);

    long syscall(long number, long a0, long a1, long a2, long a3, long a4, long a5);

    int getpid();

    int setsid();

    int sigaction(int signum, Pointer act, Pointer oldact);

    String strerror(int errnum);

    int dup(int fd);

    int mincore(long addr, @size_t long length, @Out Pointer vec);

    int sigemptyset(Pointer set);

    /** Address of a symbol in the already loaded libraries (handle 0 = RTLD_DEFAULT); 0 if not found. */
    long dlsym(long handle, String symbol);
}
