package io.backplane.hypervisor.xen.abi;

/**
 * The structs and ioctls of {@code /dev/xen/evtchn} (xen/sys/evtchn.h) this bundle uses, one
 * nested class per struct. The bind ioctls return dom0's new port. Reading the device yields
 * the ports that fired as 4-byte unsigned ints (each is masked until written back).
 */
public final class EvtchnAbi {
    public static final String DEVICE = "/dev/xen/evtchn";
    /** Bytes of one port in the device's read/write stream. */
    public static final int PORT_SIZE = 4;
    /** IOCTL_EVTCHN_RESET: clears the driver's ring of fired ports after an overflow (no struct). */
    public static final long RESET_IOCTL = Ioc.none('E', 5, 0);

    private EvtchnAbi() {
    }

    /** {@code struct ioctl_evtchn_bind_interdomain}. */
    public static final class BindInterdomain {
        public static final int REMOTE_DOMAIN = 0;
        public static final int REMOTE_PORT = 4;
        public static final int SIZE = 8;
        public static final long IOCTL = Ioc.none('E', 1, SIZE);

        private BindInterdomain() {
        }
    }

    /** {@code struct ioctl_evtchn_bind_unbound_port} (EVTCHNOP_alloc_unbound). */
    public static final class BindUnboundPort {
        public static final int REMOTE_DOMAIN = 0;
        public static final int SIZE = 4;
        public static final long IOCTL = Ioc.none('E', 2, SIZE);

        private BindUnboundPort() {
        }
    }

    /** {@code struct ioctl_evtchn_unbind} (EVTCHNOP_close). */
    public static final class Unbind {
        public static final int PORT = 0;
        public static final int SIZE = 4;
        public static final long IOCTL = Ioc.none('E', 3, SIZE);

        private Unbind() {
        }
    }

    /** {@code struct ioctl_evtchn_notify} (EVTCHNOP_send). */
    public static final class Notify {
        public static final int PORT = 0;
        public static final int SIZE = 4;
        public static final long IOCTL = Ioc.none('E', 4, SIZE);

        private Notify() {
        }
    }
}
