package io.backplane.api.ring;

import java.nio.ByteBuffer;

/**
 * Moves request data between the backend's buffers and the pages a frontend granted for one
 * request segment ({@code gref}, byte {@code offset} in the page, {@code length} bytes, never
 * crossing the page). How it is done is the strategy's business: grant copy, a map per request,
 * a persistent mapping, or none at all. Each call returns the GNTST code of the operation (0 =
 * GNTST_okay); a refused grant fails only that segment.
 */
public interface SegmentIo {

    /** Guest page to {@code dst} (netback TX, blkback WRITE). {@code dst} must be direct. */
    int read(int gref, int offset, ByteBuffer dst, int dstOffset, int length);

    /** {@code src} to the guest page (netback RX, blkback READ). {@code src} must be direct. */
    int write(ByteBuffer src, int srcOffset, int gref, int offset, int length);

    /**
     * Moves several segments as one batch (one GNTTABOP_copy for the grant-copy strategy):
     * {@code status[i]} receives the GNTST code of {@code ops.get(i)}; a refused segment does not
     * stop the others. {@code status} must hold at least {@code ops.size()} entries. The default
     * runs them one by one.
     */
    default void copy(java.util.List<SegmentCopy> ops, int[] status) {
        for (int i = 0; i < ops.size(); i++) {
            SegmentCopy op = ops.get(i);
            status[i] = op.toGuest()
                    ? write(op.local(), op.localOffset(), op.gref(), op.offset(), op.length())
                    : read(op.gref(), op.offset(), op.local(), op.localOffset(), op.length());
        }
    }

    /**
     * The segment's bytes in place, for I/O straight between a file or device and the guest's
     * page (preadv/pwritev) with no copy through the backend: a view of {@code length} bytes at
     * {@code offset} of the page granted as {@code gref}, which the caller may write when
     * {@code toGuest}. Valid until the next {@link #flush()}. Null when the strategy has no
     * mapping to give for it (grant copy, a cap reached, a refused map): the caller then moves
     * the segment with {@link #copy} as usual, which also gives a refused grant its GNTST code.
     */
    default java.nio.ByteBuffer direct(int gref, int offset, int length, boolean toGuest) {
        return null;
    }

    /**
     * The next {@link #direct}/{@link #directAddress} calls ask for the segments of one request,
     * {@code grefs[0..count)}: a strategy that maps grants may map the new ones together (one
     * map for the request, as Linux blkback maps a request's new persistent grants in one
     * batch). A hint only; the default does nothing.
     */
    default void prepare(int[] grefs, int count, boolean toGuest) {
    }

    /**
     * As {@link #direct}, but the segment's address in this process's memory instead of a view
     * (0 where {@code direct} would give null, or when the strategy gives views only): for an I/O
     * vector built per segment, with no view object and no address lookup per segment. Valid, and
     * writable when {@code toGuest}, for {@code length} bytes until the next {@link #flush()}.
     */
    default long directAddress(int gref, int offset, int length, boolean toGuest) {
        return 0;
    }

    /**
     * Ends a batch: a strategy that defers work (batched grant copies, lazily batched unmaps)
     * completes it here, before the backend publishes the responses for the batch.
     */
    default void flush() {
    }

    /**
     * From now on keeps the grant references this data path holds mapped across requests
     * (persistent grants) named in {@code record}, a dom0-private file that outlives the process
     * (replaced: the file is made anew with what is held now), so that a successor can map them
     * before it serves the ring ({@link RingStrategy#prepare}). Called before the ring's worker
     * starts, or on it. The default holds nothing across requests and records nothing.
     */
    default void recordGrants(java.nio.file.Path record) {
    }
}
