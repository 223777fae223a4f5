package io.backplane.ring.layout;

/**
 * Split indexes (feature-split-indexes, not in ring.h): the header of a shared ring whose four
 * indexes each sit on their own 64-byte cache line, so a side writing its producer or event
 * index never invalidates the line the other side polls. The slots follow the 256-byte header;
 * without separate rings they are one array shared by requests and responses, as in ring.h.
 * {@code struct bp_split_sring_hdr} in ring_layouts.h.
 */
public final class SplitIndexDescriptor {

    /** The cache line every index is alone on (x86_64). */
    public static final int CACHE_LINE = 64;

    /** Written by the frontend. */
    public static final int REQ_PROD_OFFSET = 0;
    /** Written by the backend. */
    public static final int REQ_EVENT_OFFSET = CACHE_LINE;
    /** Written by the backend. */
    public static final int RSP_PROD_OFFSET = 2 * CACHE_LINE;
    /** Written by the frontend. */
    public static final int RSP_EVENT_OFFSET = 3 * CACHE_LINE;
    /** The first slot; also the header length. Bytes of the header besides the indexes are zero. */
    public static final int ENTRIES_OFFSET = 4 * CACHE_LINE;
    public static final int HEADER_LENGTH = ENTRIES_OFFSET;

    private SplitIndexDescriptor() {
    }
}
