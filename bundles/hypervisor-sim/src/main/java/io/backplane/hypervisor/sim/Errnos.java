package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.HypervisorException;

/** The errno values the sim reports, by name (the SPI) and number (the wire, negated). */
final class Errnos {
    static final String EPERM = "EPERM";
    static final String ESRCH = "ESRCH";
    static final String EINVAL = "EINVAL";
    static final String ENOSPC = "ENOSPC";
    static final String ENOSYS = "ENOSYS";
    static final String EEXIST = "EEXIST";
    static final String EIO = "EIO";
    static final String ENOMEM = "ENOMEM";
    static final String ENOTCONN = "ENOTCONN";

    private Errnos() {
    }

    /** The Linux errno number of a name this class lists (EIO for any other). */
    static int number(String name) {
        return switch (name) {
            case EPERM -> 1;
            case ESRCH -> 3;
            case EIO -> 5;
            case ENOMEM -> 12;
            case EEXIST -> 17;
            case EINVAL -> 22;
            case ENOSPC -> 28;
            case ENOSYS -> 38;
            case ENOTCONN -> 107;
            default -> 5;
        };
    }

    static HypervisorException error(String errno, String message) {
        return new HypervisorException(errno, message);
    }
}
