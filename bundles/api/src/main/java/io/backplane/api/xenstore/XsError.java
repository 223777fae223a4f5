package io.backplane.api.xenstore;

/** The error names xenstored sends in an ERROR reply (xs_wire.h {@code xsd_errors}). */
public enum XsError {
    EINVAL, EACCES, EEXIST, EISDIR, ENOENT, ENOMEM, ENOSPC, EIO, ENOTEMPTY,
    ENOSYS, EROFS, EBUSY, EAGAIN, EISCONN, E2BIG, EPERM;

    /** Maps a wire error string to its constant; unknown strings become EINVAL, as libxenstore does. */
    public static XsError fromWire(String name) {
        for (XsError e : values()) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        return EINVAL;
    }
}
