package io.backplane.blkback;

import io.backplane.api.backend.DeviceException;
import io.backplane.nativeio.Errno;
import io.backplane.nativeio.IoVector;
import io.backplane.nativeio.NativeException;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The raw image file behind one vbd (blkback's {@code struct xen_vbd}): positional reads and
 * writes in 512-byte sectors, flushes that reach stable storage (fdatasync) and discards that
 * punch holes. Safe for several rings at once: every call is positional.
 */
final class VbdImage implements AutoCloseable {
    static final int SECTOR_SIZE = 512;
    /** Discards are punched in file system blocks; smaller or unaligned ones still zero the range. */
    static final int DISCARD_GRANULARITY = 4096;

    private final NativeIo io;
    private final Path path;
    private final int fd;
    private final boolean readonly;
    private final long sectors;
    private volatile boolean closed;

    private VbdImage(NativeIo io, Path path, int fd, boolean readonly, long sectors) {
        this.io = io;
        this.path = path;
        this.fd = fd;
        this.readonly = readonly;
        this.sectors = sectors;
    }

    /** Opens {@code path}, read-only unless {@code writable}; refuses what cannot be a disk. */
    static VbdImage open(NativeIo io, Path path, boolean writable) {
        if (!Files.isRegularFile(path)) {
            throw new DeviceException("disk image " + path + " does not exist or is not a regular file");
        }
        int fd;
        try {
            fd = io.open(path.toString(), writable ? Posix.O_RDWR : Posix.O_RDONLY, 0);
        } catch (NativeException e) {
            throw new DeviceException("cannot open disk image " + path + (writable ? " for writing" : "") + ": "
                    + e.getMessage(), e);
        }
        try {
            long bytes = Files.size(path);
            if (bytes < SECTOR_SIZE) {
                throw new DeviceException("disk image " + path + " has " + bytes + " bytes, less than one sector");
            }
            return new VbdImage(io, path, fd, !writable, bytes / SECTOR_SIZE);
        } catch (java.io.IOException e) {
            io.close(fd);
            throw new DeviceException("cannot size disk image " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            io.close(fd);
            throw e;
        }
    }

    Path path() {
        return path;
    }

    boolean readonly() {
        return readonly;
    }

    /** vbd_sz: whole sectors of the image (a partial last sector is not addressable). */
    long sectors() {
        return sectors;
    }

    /** Reads {@code length} bytes at {@code sector} into {@code dst} from 0. */
    void read(long sector, ByteBuffer dst, int length) {
        ByteBuffer b = dst.duplicate().clear().limit(length);
        long offset = sector * SECTOR_SIZE;
        while (b.hasRemaining()) {
            int n = io.pread(fd, b, offset + b.position());
            if (n == 0) {
                throw new NativeException(Errno.EIO, "disk image " + path + " ended at " + (offset + b.position()));
            }
        }
    }

    /** Writes {@code length} bytes of {@code src} from 0 at {@code sector}. */
    void write(long sector, ByteBuffer src, int length) {
        ByteBuffer b = src.duplicate().clear().limit(length);
        long offset = sector * SECTOR_SIZE;
        while (b.hasRemaining()) {
            io.pwrite(fd, b, offset + b.position());
        }
    }

    /** An I/O vector for {@link #read(long, IoVector)} and {@link #write(long, IoVector)}, one per ring worker. */
    IoVector ioVector(int segments) {
        return new IoVector(io, segments);
    }

    /** Reads into the memory {@code iov} describes, from {@code sector} on (preadv, short reads resumed). */
    void read(long sector, IoVector iov) {
        long offset = sector * SECTOR_SIZE;
        while (iov.remaining() > 0) {
            long n = io.preadv(fd, iov, offset);
            if (n == 0) {
                throw new NativeException(Errno.EIO, "disk image " + path + " ended at " + offset);
            }
            iov.advance(n);
            offset += n;
        }
    }

    /** Writes the memory {@code iov} describes at {@code sector} (pwritev, short writes resumed). */
    void write(long sector, IoVector iov) {
        long offset = sector * SECTOR_SIZE;
        while (iov.remaining() > 0) {
            long n = io.pwritev(fd, iov, offset);
            iov.advance(n);
            offset += n;
        }
    }

    /** Everything written so far is on stable storage when this returns (REQ_PREFLUSH). */
    void flush() {
        io.fdatasync(fd);
    }

    /**
     * Discards {@code count} sectors from {@code sector}: they read back as zeros and their blocks
     * are given back to the file system. NativeException with EOPNOTSUPP when the file system
     * cannot punch holes (the frontend then gets BLKIF_RSP_EOPNOTSUPP, as from a device without
     * discard).
     */
    void discard(long sector, long count) {
        io.fallocate(fd, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE,
                sector * SECTOR_SIZE, count * SECTOR_SIZE);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            io.close(fd);
        }
    }
}
