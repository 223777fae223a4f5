package io.backplane.api.hypervisor;

/**
 * A domain or event channel operation was refused. {@link #errno()} is the errno name the
 * hypercall (or the /dev/xen ioctl) returns: ESRCH for an unknown domain, EINVAL for a bad port
 * or argument, EPERM, ENOSPC, EEXIST, ENOMEM, EIO.
 */
public class HypervisorException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String errno;

    public HypervisorException(String errno, String message) {
        super(errno + ": " + message);
        this.errno = errno;
    }

    public HypervisorException(String errno, String message, Throwable cause) {
        super(errno + ": " + message, cause);
        this.errno = errno;
    }

    public String errno() {
        return errno;
    }
}
