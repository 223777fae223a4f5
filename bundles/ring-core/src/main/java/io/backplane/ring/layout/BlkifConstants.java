package io.backplane.ring.layout;

import io.backplane.api.backend.XenbusKeys;

/** Operations, status codes and limits of blkif.h. */
public final class BlkifConstants {

    /** The {@code RingRequest} protocol of a blkif request ring. */
    public static final String PROTOCOL = "blkif";
    /** A ring strategy's {@code RingStrategy.SERVES} entry for persistent grants on blkif rings. */
    public static final String SERVES_PERSISTENT = PROTOCOL + ":" + XenbusKeys.FEATURE_PERSISTENT;
    /** A ring strategy's {@code RingStrategy.SERVES} entry for {@link XenbusKeys.REQUEST_UNMAP_BATCH}. */
    public static final String SERVES_UNMAP_BATCH = PROTOCOL + ":" + XenbusKeys.REQUEST_UNMAP_BATCH;
    /** XEN_IO_PROTO_ABI_X86_64 (io/protocols.h): the frontend's {@code protocol} key for x86_64 request layouts. */
    public static final String XEN_IO_PROTO_ABI_X86_64 = "x86_64-abi";

    public static final int BLKIF_OP_READ = 0;
    public static final int BLKIF_OP_WRITE = 1;
    public static final int BLKIF_OP_WRITE_BARRIER = 2;
    public static final int BLKIF_OP_FLUSH_DISKCACHE = 3;
    /** Reserved: used by an old blktap, never to be reused. */
    public static final int BLKIF_OP_RESERVED_1 = 4;
    public static final int BLKIF_OP_DISCARD = 5;
    public static final int BLKIF_OP_INDIRECT = 6;

    public static final int BLKIF_RSP_EOPNOTSUPP = -2;
    public static final int BLKIF_RSP_ERROR = -1;
    public static final int BLKIF_RSP_OKAY = 0;

    /** Segments in a direct request; chosen so the ring of one page holds 32 requests. */
    public static final int BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
    /** Indirect pages in one BLKIF_OP_INDIRECT request. */
    public static final int BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8;
    /** Segments in one indirect page: XEN_PAGE_SIZE / sizeof(struct blkif_request_segment). */
    public static final int SEGS_PER_INDIRECT_FRAME =
            SharedRingDescriptor.XEN_PAGE_SIZE / BlkifRequestDescriptor.SEGMENT_LENGTH;

    /** blkif_request_discard.flag. */
    public static final int BLKIF_DISCARD_SECURE = 1 << 0;

    /** Sector unit of sector_number, first_sect and last_sect (without feature-large-sector-size). */
    public static final int SECTOR_SIZE = 512;
    /** Sectors in one Xen page: first_sect and last_sect range over 0..7. */
    public static final int SECTORS_PER_PAGE = SharedRingDescriptor.XEN_PAGE_SIZE / SECTOR_SIZE;

    // the backend's "info" key
    public static final int VDISK_CDROM = 0x1;
    public static final int VDISK_REMOVABLE = 0x2;
    public static final int VDISK_READONLY = 0x4;

    private BlkifConstants() {
    }
}
