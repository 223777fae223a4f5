package io.backplane.api.hypervisor;

/** Why a guest shut down: {@code SHUTDOWN_*} in xen/sched.h, same codes. */
public enum ShutdownReason {
    POWEROFF(0), REBOOT(1), SUSPEND(2), CRASH(3), WATCHDOG(4), SOFT_RESET(5);

    private final int code;

    ShutdownReason(int code) {
        this.code = code;
    }

    /** The SHUTDOWN_* value. */
    public int code() {
        return code;
    }

    /** The reason for a SHUTDOWN_* value; unknown values count as a crash, as a toolstack would treat them. */
    public static ShutdownReason fromCode(int code) {
        for (ShutdownReason r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return CRASH;
    }
}
