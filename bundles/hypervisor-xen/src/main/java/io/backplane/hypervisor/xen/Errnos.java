package io.backplane.hypervisor.xen;

/**
 * errno names for what Xen's devices return (x86_64 Linux values). native's Errno only names the
 * file-I/O ones; ESRCH above all (Xen's "no such domain") must reach HypervisorException by name,
 * as the SPI documents.
 */
final class Errnos {
    private static final String[] NAMES = new String[96];

    static {
        String[][] known = {{"1", "EPERM"}, {"2", "ENOENT"}, {"3", "ESRCH"}, {"4", "EINTR"}, {"5", "EIO"},
            {"6", "ENXIO"}, {"7", "E2BIG"}, {"9", "EBADF"}, {"11", "EAGAIN"}, {"12", "ENOMEM"}, {"13", "EACCES"},
            {"14", "EFAULT"}, {"16", "EBUSY"}, {"17", "EEXIST"}, {"19", "ENODEV"}, {"22", "EINVAL"},
            {"27", "EFBIG"}, {"28", "ENOSPC"}, {"38", "ENOSYS"}, {"95", "EOPNOTSUPP"}};
        for (String[] k : known) {
            NAMES[Integer.parseInt(k[0])] = k[1];
        }
    }

    private Errnos() {
    }

    /** The symbolic name of a positive errno, or {@code errno <n>}. */
    static String name(int errno) {
        return errno > 0 && errno < NAMES.length && NAMES[errno] != null ? NAMES[errno] : "errno " + errno;
    }
}
