package io.backplane.api.hypervisor;

/** One dom0 event channel port. Closing it (EVTCHNOP_close) leaves the remote end unbound. */
public interface EventChannel extends AutoCloseable {

    /** dom0's port number. */
    int port();

    /** The domain at the other end. */
    int remoteDomid();

    /** The remote port once bound, 0 while an unbound port waits for its domain to bind. */
    int remotePort();

    /**
     * EVTCHNOP_send: raises the remote port. A no-op while the remote end is unbound or its
     * domain is gone (Xen's unbound port); EINVAL ({@link HypervisorException}) after {@link #close()}.
     */
    void notifyRemote();

    /** Re-arms delivery after an event (write of the port to /dev/xen/evtchn). */
    void unmask();

    /** True while an event arrived that has not been delivered yet (the port is masked). */
    boolean isPending();

    /** True between a delivery and the next {@link #unmask()}. */
    boolean isMasked();

    /**
     * On a port from {@link EventChannels#bindInterdomainAwaited}: waits until an event arrives
     * (true; the port is then masked until {@link #unmask()}) or {@code timeoutMillis} passed
     * (false). One thread waits per port.
     */
    default boolean await(int timeoutMillis) {
        throw new UnsupportedOperationException("event channel port " + port() + " has a handler: nothing to await");
    }

    /** EVTCHNOP_close; idempotent. */
    @Override
    void close();
}
