package io.backplane.hypervisor.xen.abi;

/**
 * Linux's {@code _IOC(dir, type, nr, size)} for the x86_64/arm64 generic layout: the Xen devices'
 * ioctls all use {@code _IOC_NONE}, so the number is {@code size << 16 | type << 8 | nr}.
 */
public final class Ioc {
    static final int NONE = 0;

    private Ioc() {
    }

    /** {@code _IOC(_IOC_NONE, type, nr, size)}. */
    public static long none(char type, int nr, int size) {
        return ((long) NONE << 30) | ((long) size << 16) | ((long) type << 8) | nr;
    }
}
