package io.backplane.api.ring;

import java.nio.ByteBuffer;

/**
 * One segment of a batch for {@link SegmentIo#copy}: {@code length} bytes between the backend's
 * direct buffer {@code local} at {@code localOffset} and byte {@code offset} of the page granted
 * as {@code gref}, never crossing that page.
 *
 * @param toGuest true to write the guest page (netback RX, blkback READ), false to read it
 */
public record SegmentCopy(boolean toGuest, int gref, int offset, ByteBuffer local, int localOffset, int length) {

    /** Guest page to {@code dst} (netback TX, blkback WRITE). */
    public static SegmentCopy fromGuest(int gref, int offset, ByteBuffer dst, int dstOffset, int length) {
        return new SegmentCopy(false, gref, offset, dst, dstOffset, length);
    }

    /** {@code src} to the guest page (netback RX, blkback READ). */
    public static SegmentCopy toGuest(ByteBuffer src, int srcOffset, int gref, int offset, int length) {
        return new SegmentCopy(true, gref, offset, src, srcOffset, length);
    }
}
