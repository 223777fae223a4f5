package io.backplane.api.hypervisor;

/**
 * dom0's event channels, as a backend uses {@code /dev/xen/evtchn} (libxenevtchn). Ports are
 * dom0's own; the remote end is a port of another domain.
 *
 * <p>Delivery follows the evtchn device: when the remote end notifies, the handler is called
 * once and the port is masked; further notifications only set it pending. {@link
 * EventChannel#unmask()} re-arms the port (and delivers again at once if it became pending
 * meanwhile), so a consumer that unmasks before it re-checks its ring never misses an event.
 * Handlers run on the implementation's delivery thread and must not block.
 */
public interface EventChannels {

    /**
     * EVTCHNOP_alloc_unbound: a new dom0 port that only {@code remoteDomid} may bind to (the
     * backend side of a split event channel, or a port offered to a frontend). ESRCH for an
     * unknown domain, ENOSPC when dom0 has no free port.
     */
    EventChannel allocUnbound(int remoteDomid, EventHandler handler);

    /**
     * EVTCHNOP_bind_interdomain: binds a new dom0 port to {@code remotePort} of
     * {@code remoteDomid}, which must be unbound and offered to dom0 (EINVAL otherwise, ESRCH for
     * an unknown domain). The normal backend case: the frontend wrote its port in XenStore.
     */
    EventChannel bindInterdomain(int remoteDomid, int remotePort, EventHandler handler);

    /**
     * EVTCHNOP_bind_interdomain for a port that one thread waits on itself with {@link
     * EventChannel#await}, instead of a handler on the delivery thread: the thread serving a ring
     * then wakes straight from the notification, without a hand-off between two threads per event
     * (each thread switch and system call is dear in a PV dom0). Masking and {@link
     * EventChannel#unmask()} as for a handler's port. Errors as {@link #bindInterdomain(int, int,
     * EventHandler)}.
     */
    EventChannel bindInterdomainAwaited(int remoteDomid, int remotePort);
}
