package io.backplane.ring.layout;

/**
 * Separate request and response rings (feature-separate-rings, not in ring.h): requests live in
 * their own pages with their own producer and event index ({@code req_prod}, {@code req_event}),
 * responses in as many further pages with theirs ({@code rsp_prod}, {@code rsp_event}). Each of
 * the two rings starts with the same header: the producer index at 0, the event index at 4, or
 * at 64 (its own cache line) when split indexes are negotiated too; then that ring's slots.
 * {@code struct bp_sep_sring_hdr} and {@code struct bp_sep_split_sring_hdr} in ring_layouts.h.
 */
public final class SeparateRingsDescriptor {

    /** The ring's producer: {@code req_prod} in the request ring, {@code rsp_prod} in the response ring. */
    public static final int PROD_OFFSET = 0;
    /** The ring's event index: {@code req_event} / {@code rsp_event}, right after the producer. */
    public static final int EVENT_OFFSET = 4;
    /** First slot and header length of a ring without split indexes. */
    public static final int ENTRIES_OFFSET = 64;
    /** The event index on its own cache line, with split indexes. */
    public static final int SPLIT_EVENT_OFFSET = SplitIndexDescriptor.CACHE_LINE;
    /** First slot and header length of a ring with split indexes. */
    public static final int SPLIT_ENTRIES_OFFSET = 2 * SplitIndexDescriptor.CACHE_LINE;

    private SeparateRingsDescriptor() {
    }

    /** Where the response ring starts: right after the request ring's {@code pages} pages. */
    public static int responseRingOffset(int pages) {
        return Math.multiplyExact(pages, SharedRingDescriptor.XEN_PAGE_SIZE);
    }
}
