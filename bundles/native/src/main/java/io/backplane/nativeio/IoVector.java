package io.backplane.nativeio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;

/**
 * A reusable {@code struct iovec} array for preadv/pwritev: the pieces of one I/O in order, each
 * a direct buffer's remaining bytes (a guest page mapped into this process, say), so a file and
 * scattered memory exchange data in one system call with no copy in between. Not thread-safe;
 * one per worker. {@link #advance} drops what a short transfer already moved.
 */
public final class IoVector {
    /** sizeof(struct iovec) on LP64: iov_base, iov_len. */
    private static final int IOVEC_SIZE = 16;

    private final NativeIo io;
    private final ByteBuffer native_;
    /** {@link #native_} as longs: the whole array is written with one bulk put. */
    private final LongBuffer nativeLongs;
    private final long nativeAddress;
    private final long[] base;
    private final long[] length;
    /** The iovec array as it goes to the kernel, built here and written out with one bulk put. */
    private final long[] packed;
    private int first;
    private int count;

    public IoVector(NativeIo io, int capacity) {
        this.io = io;
        this.native_ = ByteBuffer.allocateDirect(capacity * IOVEC_SIZE).order(ByteOrder.nativeOrder());
        this.nativeLongs = native_.asLongBuffer();
        this.nativeAddress = io.address(native_);
        this.base = new long[capacity];
        this.length = new long[capacity];
        this.packed = new long[capacity * 2];
    }

    public void clear() {
        first = 0;
        count = 0;
    }

    /** Appends {@code buffer}'s remaining bytes (direct). */
    public void add(ByteBuffer buffer) {
        base[count] = io.address(buffer) + buffer.position();
        length[count] = buffer.remaining();
        count++;
    }

    /** Appends {@code length} bytes of native memory at {@code address} (a mapped guest page, say). */
    public void add(long address, long length) {
        base[count] = address;
        this.length[count] = length;
        count++;
    }

    /** Bytes still to move. */
    public long remaining() {
        long n = 0;
        for (int i = first; i < count; i++) {
            n += length[i];
        }
        return n;
    }

    /** Drops the first {@code n} bytes (moved by a short preadv/pwritev). */
    public void advance(long n) {
        while (n > 0 && first < count) {
            long step = Math.min(n, length[first]);
            base[first] += step;
            length[first] -= step;
            n -= step;
            if (length[first] == 0) {
                first++;
            }
        }
    }

    /** The native array from the first piece not yet moved; valid until the next change. */
    long address() {
        // One bulk put instead of two buffer calls per piece: an I/O of a 1 MiB block has 256
        // pieces, and where the JVM runs slowly (interpreted, or under emulation) calls count.
        int n = 0;
        for (int i = first; i < count; i++) {
            packed[n++] = base[i];
            packed[n++] = length[i];
        }
        nativeLongs.put(0, packed, 0, n);
        return nativeAddress;
    }

    int count() {
        return count - first;
    }
}
