package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.hypervisor.sim.abi.EvtchnWire;
import io.backplane.nativeio.Errno;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;
import java.util.function.IntPredicate;

/**
 * Every domain's event channel ports and how they are bound, with Xen's rules
 * (xen/common/event_channel.c): ports are numbered from 1 per domain, lowest free first;
 * an unbound port names the one remote domain that may bind it; closing one end leaves the other
 * unbound for its old peer; sending on an unbound port does nothing.
 */
final class EventChannelSwitch {
    private final Map<Integer, AtomicReferenceArray<Port>> tables = new ConcurrentHashMap<>();
    private final IntPredicate domainExists;

    /** {@code domainExists} says which remote domids are real (dom0 and live domains). */
    EventChannelSwitch(IntPredicate domainExists) {
        this.domainExists = domainExists;
    }

    synchronized void addDomain(int domid) {
        tables.putIfAbsent(domid, new AtomicReferenceArray<>(EvtchnWire.MAX_PORTS));
    }

    /** EVTCHNOP_alloc_unbound. */
    synchronized Port allocUnbound(int domid, int remoteDomid, PortSink sink) {
        if (!domainExists.test(remoteDomid)) {
            throw new HypervisorException(Errno.name(Errno.ESRCH), "domain " + remoteDomid + " does not exist");
        }
        AtomicReferenceArray<Port> table = table(domid);
        int free = freePort(table, domid);
        Port p = new Port(domid, free, remoteDomid, sink);
        table.set(free, p);
        return p;
    }

    /** EVTCHNOP_bind_interdomain: a new port of {@code domid} bound to an unbound port offered to it. */
    synchronized Port bindInterdomain(int domid, int remoteDomid, int remotePort, PortSink sink) {
        if (!domainExists.test(remoteDomid)) {
            throw new HypervisorException(Errno.name(Errno.ESRCH), "domain " + remoteDomid + " does not exist");
        }
        AtomicReferenceArray<Port> remoteTable = tables.get(remoteDomid);
        Port remote = remoteTable == null || !valid(remotePort) ? null : remoteTable.get(remotePort);
        if (remote == null) {
            throw new HypervisorException(Errno.name(Errno.EINVAL), "domain " + remoteDomid + " has no port " + remotePort);
        }
        if (remote.peer() != null || remote.remoteDomid() != domid) {
            throw new HypervisorException(Errno.name(Errno.EINVAL), "port " + remotePort + " of domain " + remoteDomid
                    + " is not offered to domain " + domid + " (" + remote + ")");
        }
        AtomicReferenceArray<Port> table = table(domid);
        int free = freePort(table, domid);
        Port local = new Port(domid, free, remoteDomid, sink);
        table.set(free, local);
        local.bind(remote);
        remote.bind(local);
        return local;
    }

    /** EVTCHNOP_send: raises the peer of {@code port}; a no-op while unbound. */
    void send(int domid, int port) {
        Port p = lookup(domid, port);
        Port peer = p.peer();
        if (peer != null) {
            peer.raise();
        }
    }

    /** EVTCHNOP_close: frees the port; its peer becomes unbound (offered to this domain again). */
    synchronized void close(int domid, int port) {
        Port p = lookup(domid, port);
        free(p);
    }

    /** The port if it exists, EINVAL otherwise. */
    Port lookup(int domid, int port) {
        AtomicReferenceArray<Port> table = tables.get(domid);
        Port p = table == null || !valid(port) ? null : table.get(port);
        if (p == null) {
            throw new HypervisorException(Errno.name(Errno.EINVAL), "domain " + domid + " has no port " + port);
        }
        return p;
    }

    /** Closes every port {@code sink} owns (a guest connection went away). */
    synchronized void closeAll(int domid, PortSink sink) {
        AtomicReferenceArray<Port> table = tables.get(domid);
        if (table == null) {
            return;
        }
        for (int i = 1; i < table.length(); i++) {
            Port p = table.get(i);
            if (p != null && p.sink == sink) {
                free(p);
            }
        }
    }

    /**
     * The domain is being destroyed: all its ports close, and dom0's ports that point at it are
     * freed as well (their channels are told the remote is gone). Returns dom0's freed ports.
     */
    synchronized List<Port> removeDomain(int domid) {
        List<Port> dom0Freed = new ArrayList<>();
        AtomicReferenceArray<Port> table = tables.remove(domid);
        if (table != null) {
            for (int i = 1; i < table.length(); i++) {
                Port p = table.get(i);
                if (p != null) {
                    p.markClosed();
                    Port peer = p.peer();
                    if (peer != null) {
                        peer.unbind();
                    }
                }
            }
        }
        AtomicReferenceArray<Port> dom0 = tables.get(0);
        if (dom0 != null && domid != 0) {
            for (int i = 1; i < dom0.length(); i++) {
                Port p = dom0.get(i);
                if (p != null && p.remoteDomid() == domid) {
                    dom0.set(i, null);
                    p.markClosed();
                    dom0Freed.add(p);
                }
            }
        }
        return dom0Freed;
    }

    /**
     * Every port as JDK values, for the next sim: {domid, port, remote domid, peer domid (-1 while
     * unbound), peer port, masked, pending, guest connection number (-1 for dom0's)}, with dom0's
     * handler and whether an awaited dom0 channel has an event not yet taken. Every port is closed
     * here: this switch delivers nothing more.
     */
    synchronized List<Map<String, Object>> handOver(Map<GuestConnection, Integer> connections) {
        List<Map<String, Object>> out = new ArrayList<>();
        tables.forEach((domid, table) -> {
            for (int i = 1; i < table.length(); i++) {
                Port p = table.get(i);
                if (p == null) {
                    continue;
                }
                Port peer = p.peer();
                Integer conn = p.sink instanceof GuestConnection g ? connections.get(g) : null;
                Map<String, Object> m = new HashMap<>();
                m.put(SimHandOver.PORT, new int[] {domid, i, p.remoteDomid(), peer == null ? -1 : peer.domid,
                        peer == null ? 0 : peer.port, p.isMasked() ? 1 : 0, p.isPending() ? 1 : 0, conn == null ? -1 : conn});
                if (p.sink instanceof Dom0Channel ch) {
                    if (ch.handler() != null) {
                        m.put(SimHandOver.HANDLER, ch.handler());
                    }
                    m.put(SimHandOver.EVENT, ch.hasEvent());
                }
                out.add(m);
            }
        });
        tables.values().forEach(t -> {
            for (int i = 1; i < t.length(); i++) {
                Port p = t.get(i);
                if (p != null) {
                    p.markClosed();
                    if (p.sink instanceof Dom0Channel ch) {
                        ch.retire();
                    }
                }
            }
        });
        return out;
    }

    /**
     * Takes the ports of {@link #handOver}: each guest port goes to its restored connection, each
     * dom0 port to a new channel with the handler it had ({@code dom0} gets them by port).
     */
    synchronized void restore(List<?> ports, Map<Integer, GuestConnection> connections, Map<Integer, Dom0Channel> dom0,
                              Function<Object, Dom0Channel> newDom0Channel) {
        List<int[]> bindings = new ArrayList<>();
        for (Object o : ports) {
            Map<?, ?> m = (Map<?, ?>) o;
            int[] v = (int[]) m.get(SimHandOver.PORT);
            PortSink sink;
            if (v[7] >= 0) {
                sink = connections.get(v[7]);
            } else {
                Dom0Channel ch = newDom0Channel.apply(m.get(SimHandOver.HANDLER));
                if (Boolean.TRUE.equals(m.get(SimHandOver.EVENT))) {
                    ch.eventWaiting();
                }
                dom0.put(v[1], ch);
                sink = ch;
            }
            Port p = new Port(v[0], v[1], v[2], sink, v[5] != 0, v[6] != 0);
            tables.computeIfAbsent(v[0], d -> new AtomicReferenceArray<>(EvtchnWire.MAX_PORTS)).set(v[1], p);
            if (sink instanceof Dom0Channel ch) {
                ch.attach(p);
            }
            if (v[3] >= 0) {
                bindings.add(v);
            }
        }
        for (int[] v : bindings) {
            tables.get(v[0]).get(v[1]).bind(tables.get(v[3]).get(v[4]));
        }
    }

    /** Ports in use by {@code domid} (for checks and the shell). */
    int portsInUse(int domid) {
        AtomicReferenceArray<Port> table = tables.get(domid);
        int n = 0;
        if (table != null) {
            for (int i = 1; i < table.length(); i++) {
                if (table.get(i) != null) {
                    n++;
                }
            }
        }
        return n;
    }

    private void free(Port p) {
        AtomicReferenceArray<Port> table = tables.get(p.domid);
        if (table != null) {
            table.compareAndSet(p.port, p, null);
        }
        p.markClosed();
        Port peer = p.peer();
        if (peer != null) {
            peer.unbind();
            p.unbind();
        }
    }

    private AtomicReferenceArray<Port> table(int domid) {
        AtomicReferenceArray<Port> table = tables.get(domid);
        if (table == null) {
            throw new HypervisorException(Errno.name(Errno.ESRCH), "domain " + domid + " does not exist");
        }
        return table;
    }

    private static int freePort(AtomicReferenceArray<Port> table, int domid) {
        for (int i = 1; i < table.length(); i++) {
            if (table.get(i) == null) {
                return i;
            }
        }
        throw new HypervisorException(Errno.name(Errno.ENOSPC), "domain " + domid + " has no free event channel port");
    }

    private static boolean valid(int port) {
        return port > 0 && port < EvtchnWire.MAX_PORTS;
    }
}
