package io.backplane.xenstore.store;

import java.util.List;

/** A snapshot of the store for {@code xs:stat}. */
public record StoreStats(int nodes, int connections, int watches, int transactions,
                         Quotas quotas, List<DomainUse> domains) {

    /**
     * Quota use of one domain: nodes it owns, watches and transactions its connections hold; and
     * since it was introduced (dom0: since the store started): requests its connections sent on
     * the daemon's sockets, requests refused by a quota, watch events delivered to it.
     */
    public record DomainUse(int domid, boolean introduced, int nodes, int watches, int transactions,
                            long requests, long quotaHits, long watchEvents) {
    }
}
