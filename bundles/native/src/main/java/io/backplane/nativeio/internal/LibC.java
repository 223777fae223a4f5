package io.backplane.nativeio.internal;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;

/**
 * The libc calls Backplane needs, bound by jnr-ffi. Pointers and sizes are passed as raw
 * {@code long} (LP64: same width as a pointer and size_t); callers keep the memory alive.
 * mmap takes its address as a {@link Pointer}: jnr-ffi 2.2's six-argument stub passed a raw
 * {@code long} first argument wrongly (EINVAL for every call).
 */
public interface LibC {

    @SaveError
    int open(String path, int flags, int mode);

    @SaveError
    int close(int fd);

    @SaveError
    long pread(int fd, long buf, long count, long offset);

    @SaveError
    long pwrite(int fd, long buf, long count, long offset);

    @SaveError
    long preadv(int fd, long iov, int iovcnt, long offset);

    @SaveError
    long pwritev(int fd, long iov, int iovcnt, long offset);

    @SaveError
    long writev(int fd, long iov, int iovcnt);

    @SaveError
    long readv(int fd, long iov, int iovcnt);

    @SaveError
    long read(int fd, long buf, long count);

    @SaveError
    long write(int fd, long buf, long count);

    @SaveError
    long mmap(Pointer addr, @size_t long length, int prot, int flags, int fd, @off_t long offset);

    @SaveError
    int munmap(long addr, long length);

    @SaveError
    int msync(long addr, long length, int flags);

    @SaveError
    int ioctl(int fd, long request, long arg);

    @SaveError
    int ftruncate(int fd, long length);

    @SaveError
    int memfd_create(String name, int flags);

    @SaveError
    int fallocate(int fd, int mode, @off_t long offset, @off_t long len);

    @SaveError
    int fsync(int fd);

    @SaveError
    int fdatasync(int fd);

    @SaveError
    int socket(int domain, int type, int protocol);

    @SaveError
    int poll(long fds, long nfds, int timeout);

    @SaveError
    int bind(int fd, long addr, int addrlen);

    @SaveError
    int connect(int fd, long addr, int addrlen);

    @SaveError
    int setpriority(int which, int who, int prio);

    String strerror(int errnum);
}
