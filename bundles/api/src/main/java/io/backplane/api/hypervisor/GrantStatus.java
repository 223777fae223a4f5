package io.backplane.api.hypervisor;

/** The GNTST_* status codes of xen/grant_table.h, same values. */
public enum GrantStatus {
    OKAY(0),
    GENERAL_ERROR(-1),
    BAD_DOMAIN(-2),
    BAD_GNTREF(-3),
    BAD_HANDLE(-4),
    BAD_VIRT_ADDR(-5),
    BAD_DEV_ADDR(-6),
    NO_DEVICE_SPACE(-7),
    PERMISSION_DENIED(-8),
    BAD_PAGE(-9),
    BAD_COPY_ARG(-10),
    ADDRESS_TOO_BIG(-11),
    EAGAIN(-12);

    private final int code;

    GrantStatus(int code) {
        this.code = code;
    }

    /** The GNTST_* value. */
    public int code() {
        return code;
    }

    /** The constant for a GNTST_* value; unknown values are GENERAL_ERROR. */
    public static GrantStatus fromCode(int code) {
        return code <= 0 && -code < values().length ? values()[-code] : GENERAL_ERROR;
    }
}
