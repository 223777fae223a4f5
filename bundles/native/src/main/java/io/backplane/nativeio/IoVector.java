package io.backplane.nativeio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

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
    private final long nativeAddress;
    private final long[] base;
    private final long[] length;
    private int first;
    private int count;

    public IoVector(NativeIo io, int capacity) {
        this.io = io;
        this.native_ = ByteBuffer.allocateDirect(capacity * IOVEC_SIZE).order(ByteOrder.nativeOrder());
        this.nativeAddress = io.address(native_);
        this.base = new long[capacity];
        this.length = new long[capacity];
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
        for (int i = first; i < count; i++) {
            int at = (i - first) * IOVEC_SIZE;
            native_.putLong(at, base[i]);
            native_.putLong(at + 8, length[i]);
        }
        return nativeAddress;
    }

    int count() {
        return count - first;
    }
}
