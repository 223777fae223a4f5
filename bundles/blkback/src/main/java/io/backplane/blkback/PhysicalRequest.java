package io.backplane.blkback;

/**
 * One blkif request after validation (blkback's {@code phys_req} with its segments): what the
 * worker acts on. Owned by one ring worker and reused for every request.
 */
final class PhysicalRequest {
    enum Kind { READ, WRITE, FLUSH, BARRIER, DISCARD }

    Kind kind;
    long id;
    /** The operation the response carries (an indirect request's indirect_op, as Linux answers). */
    int responseOperation;
    long sector;
    /** Sectors covered: the sum of the segments, or a discard's nr_sectors. */
    long sectors;
    boolean secureDiscard;
    int segments;
    final int[] grefs;
    /** Byte offset of each segment in its page (first_sect * 512). */
    final int[] offsets;
    /** Bytes of each segment ((last_sect - first_sect + 1) * 512). */
    final int[] lengths;

    PhysicalRequest(int maxSegments) {
        grefs = new int[maxSegments];
        offsets = new int[maxSegments];
        lengths = new int[maxSegments];
    }

    /** Bytes of data the segments carry. */
    int bytes() {
        return (int) (sectors * VbdImage.SECTOR_SIZE);
    }
}
