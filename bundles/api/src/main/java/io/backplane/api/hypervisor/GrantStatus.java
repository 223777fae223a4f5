package io.backplane.api.hypervisor;

/**
 * The GNTST_* status codes of xen/grant_table.h, same values, with Xen's own messages
 * ({@code GNTTABOP_error_msgs}). ring-core's layout test checks both against the header with gcc.
 */
public enum GrantStatus {
    OKAY(0, "okay"),
    GENERAL_ERROR(-1, "undefined error"),
    BAD_DOMAIN(-2, "unrecognised domain id"),
    BAD_GNTREF(-3, "invalid grant reference"),
    BAD_HANDLE(-4, "invalid mapping handle"),
    BAD_VIRT_ADDR(-5, "invalid virtual address"),
    BAD_DEV_ADDR(-6, "invalid device address"),
    NO_DEVICE_SPACE(-7, "no spare translation slot in the I/O MMU"),
    PERMISSION_DENIED(-8, "permission denied"),
    BAD_PAGE(-9, "bad page"),
    BAD_COPY_ARG(-10, "copy arguments cross page boundary"),
    ADDRESS_TOO_BIG(-11, "page address size too large"),
    EAGAIN(-12, "operation not done; try again"),
    NO_SPACE(-13, "out of space");

    private final int code;
    private final String message;

    GrantStatus(int code, String message) {
        this.code = code;
        this.message = message;
    }

    /** The GNTST_* value. */
    public int code() {
        return code;
    }

    /** Xen's text for the code (GNTTABOP_error_msgs). */
    public String message() {
        return message;
    }

    /**
     * The constant for a GNTST_* value. A code this enum does not know (a newer hypervisor's) is
     * GENERAL_ERROR, as Xen's own GNTTABOP_error_msgs lookup falls back to "undefined error" for it.
     */
    public static GrantStatus fromCode(int code) {
        return code <= 0 && -code < values().length ? values()[-code] : GENERAL_ERROR;
    }
}
