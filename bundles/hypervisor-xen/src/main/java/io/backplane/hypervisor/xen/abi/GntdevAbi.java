package io.backplane.hypervisor.xen.abi;

/**
 * The structs and ioctls of {@code /dev/xen/gntdev} (xen/sys/gntdev.h) this bundle uses, one
 * nested class per struct: offsets and sizes in bytes, x86_64 layout. XenAbiDescriptorTest checks
 * every number against gcc's view of the header.
 */
public final class GntdevAbi {
    /** The device. */
    public static final String DEVICE = "/dev/xen/gntdev";

    private GntdevAbi() {
    }

    /** {@code struct ioctl_gntdev_grant_ref}: one {domid, ref} of a map request. */
    public static final class GrantRef {
        public static final int DOMID = 0;
        public static final int REF = 4;
        public static final int SIZE = 8;

        private GrantRef() {
        }
    }

    /**
     * {@code struct ioctl_gntdev_map_grant_ref}: {@code count} grant refs in, the mmap offset
     * ({@code index}) out. The header declares {@code refs[1]}; a request for n refs is
     * {@code REFS + n * GrantRef.SIZE} bytes.
     */
    public static final class MapGrantRef {
        public static final int COUNT = 0;
        public static final int PAD = 4;
        public static final int INDEX = 8;
        public static final int REFS = 16;
        public static final int SIZE = 24;
        public static final long IOCTL = Ioc.none('G', 0, SIZE);

        private MapGrantRef() {
        }

        /** Bytes of a request for {@code count} refs. */
        public static int length(int count) {
            return REFS + count * GrantRef.SIZE;
        }
    }

    /** {@code struct ioctl_gntdev_unmap_grant_ref}: releases {@code count} pages at {@code index}. */
    public static final class UnmapGrantRef {
        public static final int INDEX = 0;
        public static final int COUNT = 8;
        public static final int PAD = 12;
        public static final int SIZE = 16;
        public static final long IOCTL = Ioc.none('G', 1, SIZE);

        private UnmapGrantRef() {
        }
    }

    /**
     * {@code struct gntdev_grant_copy_segment}: each side is a virtual address of this process or
     * a foreign {ref, offset, domid}, as {@code flags} says ({@link #GNTCOPY_SOURCE_GREF},
     * {@link #GNTCOPY_DEST_GREF}); {@code status} receives the GNTST code.
     */
    public static final class GrantCopySegment {
        public static final int SOURCE = 0;
        public static final int DEST = 8;
        /** Within a side's union: {@code virt}, or {@code foreign.ref/offset/domid}. */
        public static final int VIRT = 0;
        public static final int FOREIGN_REF = 0;
        public static final int FOREIGN_OFFSET = 4;
        public static final int FOREIGN_DOMID = 6;
        public static final int SIDE_SIZE = 8;
        public static final int LEN = 16;
        public static final int FLAGS = 18;
        public static final int STATUS = 20;
        public static final int SIZE = 24;
        /** xen/grant_table.h GNTCOPY_source_gref: the source is a grant ref. */
        public static final int GNTCOPY_SOURCE_GREF = 1;
        /** xen/grant_table.h GNTCOPY_dest_gref: the destination is a grant ref. */
        public static final int GNTCOPY_DEST_GREF = 2;

        private GrantCopySegment() {
        }
    }

    /** {@code struct ioctl_gntdev_grant_copy}: {@code count} segments at {@code segments}. */
    public static final class GrantCopy {
        public static final int COUNT = 0;
        public static final int SEGMENTS = 8;
        public static final int SIZE = 16;
        public static final long IOCTL = Ioc.none('G', 8, SIZE);

        private GrantCopy() {
        }
    }
}
