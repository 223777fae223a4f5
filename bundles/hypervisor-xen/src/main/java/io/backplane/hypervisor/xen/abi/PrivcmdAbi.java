package io.backplane.hypervisor.xen.abi;

/**
 * {@code privcmd_mmapbatch_v2} of {@code /dev/xen/privcmd} (xen/sys/privcmd.h): maps the frames
 * in {@code arr} (xen_pfn_t, 8 bytes each) of domain {@code dom} over a region previously
 * mmapped from the device at {@code addr}; {@code err} (ints) receives 0 or -errno per frame.
 */
public final class PrivcmdAbi {
    public static final String DEVICE = "/dev/xen/privcmd";
    /** sizeof(xen_pfn_t) on x86_64. */
    public static final int PFN_SIZE = 8;
    /** sizeof(int) of an err[] entry. */
    public static final int ERR_SIZE = 4;

    private PrivcmdAbi() {
    }

    /** {@code struct privcmd_mmapbatch_v2}. */
    public static final class MmapBatchV2 {
        public static final int NUM = 0;
        public static final int DOM = 4;
        public static final int ADDR = 8;
        public static final int ARR = 16;
        public static final int ERR = 24;
        public static final int SIZE = 32;
        public static final long IOCTL = Ioc.none('P', 4, SIZE);

        private MmapBatchV2() {
        }
    }
}
