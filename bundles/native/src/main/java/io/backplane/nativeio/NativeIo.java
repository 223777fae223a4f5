package io.backplane.nativeio;

import com.kenai.jffi.MemoryIO;
import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.nativeio.internal.LibC;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.osgi.service.component.annotations.Component;

/**
 * The project's door to libc (through an embedded jnr-ffi): file descriptors, positional I/O,
 * shared mappings, ioctl, memfd and TAP devices. One instance loads libc (about a quarter of a
 * second); in OSGi it is a DS service, on a plain classpath {@code new NativeIo()}.
 *
 * <p>Every failing call throws {@link NativeException} with errno and a sentence naming the call
 * and its object. Buffers passed to I/O calls must be direct; positions and limits are honoured
 * and advanced as {@link java.nio.channels.FileChannel} does.
 */
@Component(service = NativeIo.class)
public final class NativeIo {

    private final LibC libc;
    private final Runtime runtime;
    private final MemoryIO memory;

    public NativeIo() {
        this.libc = LibraryLoader.create(LibC.class).load("c");
        this.runtime = Runtime.getRuntime(libc);
        this.memory = MemoryIO.getInstance();
    }

    /** open(2); returns the fd. */
    public int open(String path, int flags, int mode) {
        int fd = libc.open(path, flags | Posix.O_CLOEXEC, mode);
        if (fd < 0) {
            throw error("open " + path);
        }
        return fd;
    }

    /** close(2); EBADF and the like are reported, the fd is gone either way. */
    public void close(int fd) {
        if (libc.close(fd) < 0) {
            throw error("close fd " + fd);
        }
    }

    /** pread(2) into {@code dst}'s remaining bytes; returns bytes read (0 at end of file). */
    public int pread(int fd, ByteBuffer dst, long offset) {
        long n = libc.pread(fd, address(dst) + dst.position(), dst.remaining(), offset);
        if (n < 0) {
            throw error("pread fd " + fd + " at " + offset);
        }
        dst.position(dst.position() + (int) n);
        return (int) n;
    }

    /** pwrite(2) of {@code src}'s remaining bytes; returns bytes written. */
    public int pwrite(int fd, ByteBuffer src, long offset) {
        long n = libc.pwrite(fd, address(src) + src.position(), src.remaining(), offset);
        if (n < 0) {
            throw error("pwrite fd " + fd + " at " + offset);
        }
        src.position(src.position() + (int) n);
        return (int) n;
    }

    /**
     * pread(2) of {@code count} bytes at {@code offset} into native memory at {@code address}
     * (for hot paths that keep their own addresses); returns bytes read.
     */
    public int pread(int fd, long address, int count, long offset) {
        long n = libc.pread(fd, address, count, offset);
        if (n < 0) {
            throw error("pread fd " + fd + " at " + offset);
        }
        return (int) n;
    }

    /** pwrite(2) of {@code count} bytes of native memory at {@code address}; returns bytes written. */
    public int pwrite(int fd, long address, int count, long offset) {
        long n = libc.pwrite(fd, address, count, offset);
        if (n < 0) {
            throw error("pwrite fd " + fd + " at " + offset);
        }
        return (int) n;
    }

    /**
     * preadv(2) into the native memory an {@code iovec} array describes ({@link IoVector});
     * returns bytes read (fewer at end of file or on a short read: the caller goes on).
     */
    public long preadv(int fd, IoVector iov, long offset) {
        long n = libc.preadv(fd, iov.address(), iov.count(), offset);
        if (n < 0) {
            throw error("preadv fd " + fd + " at " + offset);
        }
        return n;
    }

    /** pwritev(2) from the native memory an {@code iovec} array describes; returns bytes written. */
    public long pwritev(int fd, IoVector iov, long offset) {
        long n = libc.pwritev(fd, iov.address(), iov.count(), offset);
        if (n < 0) {
            throw error("pwritev fd " + fd + " at " + offset);
        }
        return n;
    }

    /** writev(2) from the native memory an {@code iovec} array describes (one TAP frame in pieces); returns bytes written. */
    public long writev(int fd, IoVector iov) {
        long n = libc.writev(fd, iov.address(), iov.count());
        if (n < 0) {
            throw error("writev fd " + fd);
        }
        return n;
    }

    /**
     * readv(2) into the native memory an {@code iovec} array describes (one TAP frame scattered
     * over a header buffer and a guest's mapped pages); returns bytes read, -1 for EAGAIN on a
     * non-blocking fd.
     */
    public long readv(int fd, IoVector iov) {
        long n = libc.readv(fd, iov.address(), iov.count());
        if (n < 0) {
            int errno = runtime.getLastError();
            if (errno == Errno.EAGAIN) {
                return -1;
            }
            throw error(errno, "readv fd " + fd);
        }
        return n;
    }

    /** read(2) into {@code dst}'s remaining bytes; returns bytes read, -1 for EAGAIN on a non-blocking fd. */
    public int read(int fd, ByteBuffer dst) {
        long n = libc.read(fd, address(dst) + dst.position(), dst.remaining());
        if (n < 0) {
            int errno = runtime.getLastError();
            if (errno == Errno.EAGAIN) {
                return -1;
            }
            throw error(errno, "read fd " + fd);
        }
        dst.position(dst.position() + (int) n);
        return (int) n;
    }

    /** write(2) of {@code src}'s remaining bytes; returns bytes written. */
    public int write(int fd, ByteBuffer src) {
        long n = libc.write(fd, address(src) + src.position(), src.remaining());
        if (n < 0) {
            throw error("write fd " + fd);
        }
        src.position(src.position() + (int) n);
        return (int) n;
    }

    /** ftruncate(2). */
    public void ftruncate(int fd, long length) {
        if (libc.ftruncate(fd, length) < 0) {
            throw error("ftruncate fd " + fd + " to " + length);
        }
    }

    /**
     * fallocate(2): with {@link Posix#FALLOC_FL_PUNCH_HOLE} | {@link Posix#FALLOC_FL_KEEP_SIZE}
     * it deallocates a range so it reads back as zeros (a discard on an image file). A file
     * system that cannot punch holes fails with EOPNOTSUPP.
     */
    public void fallocate(int fd, int mode, long offset, long length) {
        if (libc.fallocate(fd, mode, offset, length) < 0) {
            throw error("fallocate fd " + fd + " mode " + mode + " of " + length + " bytes at " + offset);
        }
    }

    /** fsync(2): data and metadata of the file are on stable storage when it returns. */
    public void fsync(int fd) {
        if (libc.fsync(fd) < 0) {
            throw error("fsync fd " + fd);
        }
    }

    /** fdatasync(2): the file's data (and the metadata needed to read it) is on stable storage. */
    public void fdatasync(int fd) {
        if (libc.fdatasync(fd) < 0) {
            throw error("fdatasync fd " + fd);
        }
    }

    /** memfd_create(2) with MFD_CLOEXEC: anonymous shared memory with an fd. */
    public int memfdCreate(String name) {
        int fd = libc.memfd_create(name, Posix.MFD_CLOEXEC);
        if (fd < 0) {
            throw error("memfd_create " + name);
        }
        return fd;
    }

    /** ioctl(2) whose argument is a buffer (its address at position 0); returns the call's result. */
    public int ioctl(int fd, long request, ByteBuffer arg) {
        return ioctl(fd, request, address(arg));
    }

    /** ioctl(2) with a plain integer or pointer argument. */
    public int ioctl(int fd, long request, long arg) {
        int rc = libc.ioctl(fd, request, arg);
        if (rc < 0) {
            throw error("ioctl 0x" + Long.toHexString(request) + " on fd " + fd);
        }
        return rc;
    }

    /** socket(2). */
    public int socket(int domain, int type, int protocol) {
        int fd = libc.socket(domain, type | Posix.O_CLOEXEC, protocol);
        if (fd < 0) {
            throw error("socket(" + domain + ", " + type + ")");
        }
        return fd;
    }

    /** bind(2) to the socket address in {@code address}'s remaining bytes (direct). */
    public void bind(int fd, ByteBuffer address) {
        if (libc.bind(fd, address(address) + address.position(), address.remaining()) < 0) {
            throw error("bind fd " + fd);
        }
    }

    /**
     * connect(2) to the socket address in {@code address}'s remaining bytes (direct); for a
     * datagram socket it sets where {@link #write} sends.
     */
    public void connect(int fd, ByteBuffer address) {
        if (libc.connect(fd, address(address) + address.position(), address.remaining()) < 0) {
            throw error("connect fd " + fd);
        }
    }

    /**
     * poll(2) on one fd; returns the revents bits, 0 on timeout. {@code scratch} is an 8-byte
     * direct buffer the caller owns (struct pollfd), so a hot loop allocates nothing.
     */
    public int poll(int fd, short events, int timeoutMillis, ByteBuffer scratch) {
        scratch.order(ByteOrder.nativeOrder());
        scratch.putInt(0, fd).putShort(4, events).putShort(6, (short) 0);
        int n = libc.poll(address(scratch), 1, timeoutMillis);
        if (n < 0) {
            int errno = runtime.getLastError();
            if (errno == Errno.EINTR) {
                return 0;
            }
            throw error(errno, "poll fd " + fd);
        }
        return n == 0 ? 0 : scratch.getShort(6) & 0xFFFF;
    }

    /** mmap(2); returns the address. */
    public long mmap(long address, long length, int prot, int flags, int fd, long offset) {
        long addr = libc.mmap(address == 0 ? null : Pointer.wrap(runtime, address), length, prot, flags, fd, offset);
        if (addr == -1L) {
            throw error("mmap of " + length + " bytes of fd " + fd + " at " + offset);
        }
        return addr;
    }

    /** munmap(2). */
    public void munmap(long address, long length) {
        if (libc.munmap(address, length) < 0) {
            throw error("munmap of " + length + " bytes at 0x" + Long.toHexString(address));
        }
    }

    /**
     * munmap(2) of several regions with one call per run of regions lying end to end (one
     * page-table walk and one TLB flush for the run, where a call per region pays each). Returns
     * the number of calls made; a failed call does not stop the others, its error is thrown at
     * the end.
     */
    public int munmapRuns(long[] addresses, long[] lengths) {
        Integer[] order = new Integer[addresses.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, java.util.Comparator.comparingLong(i -> addresses[i]));
        NativeException failed = null;
        int calls = 0;
        for (int i = 0; i < order.length; ) {
            long start = addresses[order[i]];
            long end = start + lengths[order[i]];
            int j = i + 1;
            while (j < order.length && addresses[order[j]] == end) {
                end += lengths[order[j++]];
            }
            try {
                munmap(start, end - start);
            } catch (NativeException e) {
                failed = e;
            }
            calls++;
            i = j;
        }
        if (failed != null) {
            throw failed;
        }
        return calls;
    }

    /** msync(2). */
    public void msync(long address, long length, int flags) {
        if (libc.msync(address, length, flags) < 0) {
            throw error("msync of " + length + " bytes at 0x" + Long.toHexString(address));
        }
    }

    /** Maps {@code length} bytes of {@code fd} from {@code offset}, shared, as one region. */
    public MemoryMapping mapShared(int fd, long offset, long length, boolean writable) {
        int prot = writable ? Posix.PROT_READ | Posix.PROT_WRITE : Posix.PROT_READ;
        long addr = mmap(0, length, prot, Posix.MAP_SHARED, fd, offset);
        return new MemoryMapping(this, addr, length, writable);
    }

    /**
     * Maps the given pages of {@code fd} (page indexes, 4 KiB each) side by side as one
     * contiguous region, shared: the way gntdev lays a batch of grants out. Runs of consecutive
     * pages become one mmap each, placed with MAP_FIXED inside a reserved PROT_NONE region
     * (pages that are one run already are one mmap and nothing more).
     */
    public MemoryMapping mapPages(int fd, long[] pages, boolean writable) {
        if (pages.length == 0) {
            throw new IllegalArgumentException("no pages to map");
        }
        long length = (long) pages.length * DomainConfig.PAGE_SIZE;
        int prot = writable ? Posix.PROT_READ | Posix.PROT_WRITE : Posix.PROT_READ;
        if (isRun(pages)) {
            // One run of the file: one mmap, no region to reserve first (a map per grant pays one call, not two).
            return new MemoryMapping(this, mmap(0, length, prot, Posix.MAP_SHARED, fd, pages[0] * DomainConfig.PAGE_SIZE),
                    length, writable);
        }
        long base = mmap(0, length, Posix.PROT_NONE,
                Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_NORESERVE, -1, 0);
        try {
            int i = 0;
            while (i < pages.length) {
                int run = 1;
                while (i + run < pages.length && pages[i + run] == pages[i] + run) {
                    run++;
                }
                mmap(base + (long) i * DomainConfig.PAGE_SIZE, (long) run * DomainConfig.PAGE_SIZE, prot,
                        Posix.MAP_SHARED | Posix.MAP_FIXED, fd, pages[i] * DomainConfig.PAGE_SIZE);
                i += run;
            }
        } catch (NativeException e) {
            munmap(base, length);
            throw e;
        }
        return new MemoryMapping(this, base, length, writable);
    }

    private static boolean isRun(long[] pages) {
        for (int i = 1; i < pages.length; i++) {
            if (pages[i] != pages[0] + i) {
                return false;
            }
        }
        return true;
    }

    /** A direct ByteBuffer over native memory at {@code address}; the caller keeps it mapped. */
    public ByteBuffer buffer(long address, int size) {
        return memory.newDirectByteBuffer(address, size);
    }

    /** The native address of a direct buffer's element 0. */
    public long address(ByteBuffer buffer) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("native I/O needs a direct buffer");
        }
        return memory.getDirectBufferAddress(buffer);
    }

    /**
     * Opens (creating if needed) the TAP interface {@code name} through /dev/net/tun, without
     * packet information headers: each read or write is one Ethernet frame.
     */
    public TapDevice openTap(String name) {
        return TapDevice.open(this, name, false);
    }

    /** A TAP whose frames carry a {@code virtio_net_hdr} both ways (IFF_VNET_HDR); see {@link TapDevice}. */
    public TapDevice openTapWithVnetHeader(String name) {
        return TapDevice.open(this, name, true);
    }

    /**
     * Sets the nice value of every thread of this process (Linux's nice is per thread: each
     * task in /proc/self/task gets {@code setpriority(PRIO_PROCESS, tid, nice)}); threads started
     * later inherit their creator's. Raising it is one way: going back needs CAP_SYS_NICE.
     * Returns how many threads were set; a thread that ended meanwhile is skipped.
     *
     * <p>The calling thread is set last: set first, it would do the rest at the new nice, starved
     * by the CPUs' other work while every other thread ran on at the old one (a hand-over's
     * successor was seen adopting for seconds beside an old instance still unmapping at nice 0).
     */
    public int niceAllThreads(int nice) {
        int self = currentThreadId();
        Set<Integer> done = new HashSet<>();
        done.add(self);
        // Again until a pass finds no new thread: one started meanwhile by a thread not yet set
        // would have the old nice.
        for (boolean more = true; more; ) {
            more = false;
            for (int tid : threadIds()) {
                if (done.add(tid)) {
                    more = true;
                    setNice(tid, nice);
                }
            }
        }
        setNice(self, nice);
        return done.size();
    }

    private void setNice(int tid, int nice) {
        if (libc.setpriority(Posix.PRIO_PROCESS, tid, nice) < 0) {
            int errno = runtime.getLastError();
            if (errno != Errno.ESRCH) {
                throw error(errno, "setpriority of thread " + tid + " to nice " + nice);
            }
        }
    }

    /** The calling thread's Linux thread id: /proc/thread-self names its {@code <pid>/task/<tid>}. */
    private static int currentThreadId() {
        try {
            return Integer.parseInt(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
        } catch (IOException e) {
            throw new UncheckedIOException("reading /proc/thread-self failed", e);
        }
    }

    private static List<Integer> threadIds() {
        // A loop, not a stream's lambda: this first runs in a hand-over, where linking one took time under emulation.
        String[] tasks = new File("/proc/self/task").list();
        if (tasks == null) {
            throw new UncheckedIOException(new IOException("listing /proc/self/task failed"));
        }
        List<Integer> ids = new ArrayList<>(tasks.length);
        for (String t : tasks) {
            ids.add(Integer.valueOf(t));
        }
        return ids;
    }

    String strerror(int errno) {
        return libc.strerror(errno);
    }

    NativeException error(String what) {
        return error(runtime.getLastError(), what);
    }

    NativeException error(int errno, String what) {
        return new NativeException(errno, what + " failed: " + strerror(errno) + " (" + Errno.name(errno) + ")");
    }

    static byte[] cString(String s, int size) {
        byte[] out = new byte[size];
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, out, 0, Math.min(b.length, size - 1));
        return out;
    }
}
