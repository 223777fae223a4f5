package io.backplane.ring.persistent;

import static io.backplane.ring.layout.GrantRecordDescriptor.CAPACITY_OFFSET;
import static io.backplane.ring.layout.GrantRecordDescriptor.COUNT_OFFSET;
import static io.backplane.ring.layout.GrantRecordDescriptor.DOMID_OFFSET;
import static io.backplane.ring.layout.GrantRecordDescriptor.MAGIC;
import static io.backplane.ring.layout.GrantRecordDescriptor.MAGIC_OFFSET;
import static io.backplane.ring.layout.GrantRecordDescriptor.REFS_OFFSET;
import static io.backplane.ring.layout.GrantRecordDescriptor.REF_LENGTH;
import static io.backplane.ring.layout.GrantRecordDescriptor.VERSION;
import static io.backplane.ring.layout.GrantRecordDescriptor.VERSION_OFFSET;

import io.backplane.ring.layout.GrantRecordDescriptor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The grant references one ring's persistent grants hold, in a memory-mapped file that outlives
 * the process ({@link GrantRecordDescriptor}): a reference is added after its grant is mapped and
 * removed before it is unmapped, so the file never names more than the process held. A standby
 * reads it ({@link #read}) to map the same grants before the owner goes, and again at its claim.
 * Slot order means nothing: a removal moves the last slot's reference into the freed one. Written
 * by the ring's worker only.
 */
final class GrantRecord {
    private static final VarHandle U32 = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final ByteBuffer buffer;
    private final int capacity;
    private int count;

    private GrantRecord(ByteBuffer buffer, int capacity) {
        this.buffer = buffer;
        this.capacity = capacity;
    }

    /**
     * A new, empty record at {@code file} for {@code domid}'s grants, with room for
     * {@code capacity} references. A file already there is removed first, not written: the last
     * owner may still have it mapped (a hand-over unmaps after the release).
     *
     * @throws UncheckedIOException when the file cannot be created or mapped
     */
    static GrantRecord create(Path file, int domid, int capacity) {
        int bytes = GrantRecordDescriptor.bytes(capacity);
        try {
            Files.deleteIfExists(file);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                ByteBuffer b = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes).order(ByteOrder.LITTLE_ENDIAN);
                b.putInt(VERSION_OFFSET, VERSION);
                b.putInt(CAPACITY_OFFSET, capacity);
                b.putInt(DOMID_OFFSET, domid);
                b.putInt(COUNT_OFFSET, 0);
                U32.setRelease(b, MAGIC_OFFSET, MAGIC); // a record once the header is whole
                return new GrantRecord(b, capacity);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map the grant record " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The references the record at {@code file} names for {@code domid}, sorted, each once (a
     * kill in the middle of a removal leaves the moved reference in two slots); empty when there
     * is no such record. Read, never mapped: the file may be another live process's.
     */
    static int[] read(Path file, int domid) {
        if (file == null || !Files.isRegularFile(file)) {
            return new int[0];
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < GrantRecordDescriptor.REFS_OFFSET || size > Integer.MAX_VALUE) {
                return new int[0];
            }
            ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // read it whole
            }
            int capacity = b.getInt(CAPACITY_OFFSET);
            int count = b.getInt(COUNT_OFFSET);
            if (b.getInt(MAGIC_OFFSET) != MAGIC || b.getInt(VERSION_OFFSET) != VERSION || b.getInt(DOMID_OFFSET) != domid
                    || capacity < 0 || size != GrantRecordDescriptor.bytes(capacity) || count < 0 || count > capacity) {
                return new int[0];
            }
            int[] refs = new int[count];
            for (int i = 0; i < count; i++) {
                refs[i] = b.getInt(REFS_OFFSET + i * REF_LENGTH);
            }
            Arrays.sort(refs);
            int n = 0;
            for (int i = 0; i < count; i++) {
                if (n == 0 || refs[i] != refs[n - 1]) {
                    refs[n++] = refs[i];
                }
            }
            return Arrays.copyOf(refs, n);
        } catch (IOException e) {
            return new int[0];
        }
    }

    /** Records {@code gref}, held from now on; returns its slot, or -1 when the record is full. */
    int add(int gref) {
        if (count == capacity) {
            return -1;
        }
        int slot = count;
        buffer.putInt(REFS_OFFSET + slot * REF_LENGTH, gref);
        // Not a ring.h barrier (a standby reads the file with plain reads and takes what it finds
        // for a hint, checked again at its claim) but the order a kill must leave: the slot before
        // the count that covers it (a release store).
        U32.setRelease(buffer, COUNT_OFFSET, ++count);
        return slot;
    }

    /**
     * Removes the reference in {@code slot}, about to be unmapped; the last slot's reference
     * moves into it. Returns the slot that was emptied by the move (the caller's grant there now
     * lives in {@code slot}), which is {@code slot} itself when it was the last.
     */
    int remove(int slot) {
        int last = count - 1;
        if (slot != last) {
            buffer.putInt(REFS_OFFSET + slot * REF_LENGTH, buffer.getInt(REFS_OFFSET + last * REF_LENGTH));
        }
        // The moved reference before the count that drops its old slot (release), as in add.
        U32.setRelease(buffer, COUNT_OFFSET, --count);
        return last;
    }
}
