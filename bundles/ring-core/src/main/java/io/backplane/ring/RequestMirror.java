package io.backplane.ring;

import static io.backplane.ring.layout.RequestMirrorDescriptor.ENTRIES_OFFSET;
import static io.backplane.ring.layout.RequestMirrorDescriptor.MAGIC;
import static io.backplane.ring.layout.RequestMirrorDescriptor.MAGIC_OFFSET;
import static io.backplane.ring.layout.RequestMirrorDescriptor.REQ_CONS_OFFSET;
import static io.backplane.ring.layout.RequestMirrorDescriptor.SLOTS_OFFSET;
import static io.backplane.ring.layout.RequestMirrorDescriptor.SLOT_STRIDE_OFFSET;
import static io.backplane.ring.layout.RequestMirrorDescriptor.VERSION;
import static io.backplane.ring.layout.RequestMirrorDescriptor.VERSION_OFFSET;

import io.backplane.ring.layout.RequestMirrorDescriptor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A dom0-private copy of the requests a {@link BackRing} took, in a memory-mapped file that
 * outlives the process ({@link RequestMirrorDescriptor}). ring.h puts the response to request
 * {@code i} into request slot {@code i}, and a backend publishes rsp_prod only after its batch:
 * a process killed in between leaves slots holding responses the frontend never saw, while the
 * requests they answered are gone from the ring. Each request is copied here, and the mirror's
 * req_cons stored, before it can be answered; a successor serves the requests from the published
 * rsp_prod up to that req_cons from here, the rest from the ring.
 *
 * <p>The copy is also the request's one fetch from shared memory: the backend reads the request
 * from the mirror, so what it validates, serves and could serve again is the same bytes. Single
 * threaded, like its ring.
 */
public final class RequestMirror {

    private final Path file;
    private final ByteBuffer buffer;
    private final int mask;
    private final int stride;
    private final boolean kept;
    /** req_cons as last stored in the file. */
    private int consumed;

    private RequestMirror(Path file, ByteBuffer buffer, int entries, int stride, boolean kept) {
        this.file = file;
        this.buffer = buffer;
        this.mask = entries - 1;
        this.stride = stride;
        this.kept = kept;
        this.consumed = (int) SharedRing.INDEX.getAcquire(buffer, REQ_CONS_OFFSET);
    }

    /**
     * True when responses on {@code layout} overwrite request slots (ring.h's one slot array),
     * so a crash can lose requests; a layout with separate request and response slots never
     * needs a mirror.
     */
    public static boolean needed(RingLayout layout) {
        long reqStart = layout.requestSlotsOffset();
        long reqEnd = reqStart + (long) layout.entries() * layout.requestSlotStride();
        long rspStart = layout.responseSlotsOffset();
        long rspEnd = rspStart + (long) layout.entries() * layout.responseSlotStride();
        return reqStart < rspEnd && rspStart < reqEnd;
    }

    /**
     * Maps the mirror of a ring of {@code layout} at {@code file}, creating it when absent.
     *
     * @param keep true (re-attach) to keep what the file holds when it is a mirror of a ring of
     *             this geometry ({@link #kept()}); false (a fresh connect), or a file that holds
     *             something else, starts it afresh at req_cons 0
     * @throws UncheckedIOException when the file cannot be created or mapped
     */
    public static RequestMirror map(Path file, RingLayout layout, boolean keep) {
        int entries = layout.entries();
        int stride = layout.requestSlotStride();
        int bytes = RequestMirrorDescriptor.bytes(entries, stride);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            boolean usable = keep && ch.size() == bytes;
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes).order(ByteOrder.LITTLE_ENDIAN);
            usable = usable && b.getInt(MAGIC_OFFSET) == MAGIC && b.getInt(VERSION_OFFSET) == VERSION
                    && b.getInt(ENTRIES_OFFSET) == entries && b.getInt(SLOT_STRIDE_OFFSET) == stride;
            if (!usable) {
                b.putInt(MAGIC_OFFSET, 0);        // not a mirror until the header is whole
                b.putInt(VERSION_OFFSET, VERSION);
                b.putInt(ENTRIES_OFFSET, entries);
                b.putInt(SLOT_STRIDE_OFFSET, stride);
                b.putInt(REQ_CONS_OFFSET, 0);
                SharedRing.INDEX.setRelease(b, MAGIC_OFFSET, MAGIC);
            }
            return new RequestMirror(file, b, entries, stride, usable);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map the request mirror " + file + ": " + e.getMessage(), e);
        }
    }

    /** The mirror file of the ring named {@code ring} ({@code queue-0}, {@code queue-0-tx}) in a device's directory. */
    public static Path file(Path deviceDir, String ring) {
        return deviceDir.resolve(ring + ".requests");
    }

    public Path file() {
        return file;
    }

    /** True when {@link #map} kept a previous backend's mirror of this ring geometry. */
    public boolean kept() {
        return kept;
    }

    /** The mirror's req_cons: requests before it were taken and are in the mirror. */
    public int requestConsumer() {
        return consumed;
    }

    /** True when request {@code index} was taken already (by this backend or a dead one): serve it from here. */
    boolean holds(int index) {
        return index - consumed < 0;
    }

    ByteBuffer buffer() {
        return buffer;
    }

    int slotOffset(int index) {
        return SLOTS_OFFSET + (index & mask) * stride;
    }

    /** Restarts the mirror at {@code index}: nothing before it will be asked for. */
    void restart(int index) {
        consumed = index;
        SharedRing.INDEX.setRelease(buffer, REQ_CONS_OFFSET, index);
    }

    /**
     * The request at {@code index} (the ring's req_cons) is being taken: copies its slot from the
     * ring unless the mirror holds it already, and returns the offset in {@link #buffer()} to read
     * it from.
     */
    int take(int index, ByteBuffer ring, int slot) {
        int at = slotOffset(index);
        if (holds(index)) {
            return at;                            // taken before: the ring slot may hold a response now
        }
        buffer.put(at, ring, slot, stride);
        consumed = index + 1;
        // Not a ring.h barrier (nobody else reads this memory while we live) but the order a kill
        // must find: the copy before req_cons (a release store), and req_cons before any later
        // store (the store-store fence), above all the response that will overwrite the ring slot.
        SharedRing.INDEX.setRelease(buffer, REQ_CONS_OFFSET, consumed);
        VarHandle.storeStoreFence();
        return at;
    }
}
