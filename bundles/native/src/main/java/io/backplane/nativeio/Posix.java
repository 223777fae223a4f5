package io.backplane.nativeio;

/** Linux constants (x86_64 and aarch64 share these values) for the calls {@link NativeIo} offers. */
public final class Posix {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;

    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;

    public static final int MS_ASYNC = 1;
    public static final int MS_INVALIDATE = 2;
    public static final int MS_SYNC = 4;

    public static final int MFD_CLOEXEC = 1;

    /** fallocate(2) modes (linux/falloc.h). */
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;

    /** socket(2) domain and type (sys/socket.h). */
    public static final int AF_UNIX = 1;
    public static final int SOCK_DGRAM = 2;

    /** setpriority(2)'s {@code which} (sys/resource.h): on Linux, {@code who} names one thread. */
    public static final int PRIO_PROCESS = 0;

    public static final short POLLIN = 0x001;
    public static final short POLLOUT = 0x004;
    public static final short POLLERR = 0x008;
    public static final short POLLHUP = 0x010;

    private Posix() {
    }
}
