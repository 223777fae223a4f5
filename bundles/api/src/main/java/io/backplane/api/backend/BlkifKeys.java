package io.backplane.api.backend;

/**
 * The key names only a vbd has (/usr/include/xen/io/blkif.h unless a key says otherwise); the
 * keys every device has are {@link XenbusKeys}.
 */
public interface BlkifKeys {

    /** Backend: the image the toolstack gives the vbd (a path for Backplane's file backend). */
    String PARAMS = "params";
    /** Backend: {@code r} or {@code w}, how the toolstack lets the guest use the image. */
    String MODE = "mode";
    /** Backend: {@code cdrom} or {@code disk}, what the guest should make of the vbd. */
    String DEVICE_TYPE = "device-type";
    /** Backend: 1 when the medium may change (libxl; VDISK_REMOVABLE in {@link #INFO}). */
    String REMOVABLE = "removable";
    /** Frontend: the device number the guest sees (blkif.h, docs/misc/vbd-interface.txt). */
    String VIRTUAL_DEVICE = "virtual-device";
    /** Backend: the toolstack allows discard on the image (0 forbids it). */
    String DISCARD_ENABLE = "discard-enable";
    /** Backend: discard requests are served. */
    String FEATURE_DISCARD = "feature-discard";
    /** Backend: the discard granularity in bytes. */
    String DISCARD_GRANULARITY = "discard-granularity";
    /** Backend: the offset of the first discard-aligned sector, in bytes. */
    String DISCARD_ALIGNMENT = "discard-alignment";
    /** Backend: BLKIF_DISCARD_SECURE is honoured. */
    String DISCARD_SECURE = "discard-secure";
    /** Backend: BLKIF_OP_WRITE_BARRIER is served. */
    String FEATURE_BARRIER = "feature-barrier";
    /** Backend: BLKIF_OP_FLUSH_DISKCACHE is served. */
    String FEATURE_FLUSH_CACHE = "feature-flush-cache";
    /** Backend: the most segments of a BLKIF_OP_INDIRECT request. */
    String FEATURE_MAX_INDIRECT_SEGMENTS = "feature-max-indirect-segments";
    /** Backend: the disk's size in 512-byte sectors. */
    String SECTORS = "sectors";
    /** Backend: the logical sector size in bytes. */
    String SECTOR_SIZE = "sector-size";
    /** Backend: the physical sector size in bytes. */
    String PHYSICAL_SECTOR_SIZE = "physical-sector-size";
    /** Backend: VDISK_* bits (cdrom, removable, read-only). */
    String INFO = "info";
    /** Frontend: the ABI of its requests, XEN_IO_PROTO_ABI_* (io/protocols.h). */
    String PROTOCOL = "protocol";
}
