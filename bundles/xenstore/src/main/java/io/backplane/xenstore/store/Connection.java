package io.backplane.xenstore.store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client of the store: acts for {@code domid}, privileged (dom0's socket, in-process) or not
 * (a guest). Owns its watches and transactions; state changes only under the store's lock.
 */
public final class Connection {
    final long id;
    final int domid;
    final boolean privileged;
    final WatchEventSink sink;
    final List<Watch> watches = new ArrayList<>();
    final Map<Integer, Transaction> transactions = new HashMap<>();
    int nextTransactionId = 1;

    Connection(long id, int domid, boolean privileged, WatchEventSink sink) {
        this.id = id;
        this.domid = domid;
        this.privileged = privileged;
        this.sink = sink;
    }

    public int domid() {
        return domid;
    }

    public boolean privileged() {
        return privileged;
    }

    public String home() {
        return Paths.domainPath(domid);
    }

    @Override
    public String toString() {
        return "connection " + id + " (domain " + domid + (privileged ? ", privileged)" : ")");
    }
}
