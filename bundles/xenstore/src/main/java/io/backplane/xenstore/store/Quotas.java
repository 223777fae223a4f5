package io.backplane.xenstore.store;

/**
 * The per-domain limits of Xen 4.17's C xenstored. Privileged connections (dom0) are exempt,
 * as they are there.
 *
 * @param maxNodesPerDomain   nodes a domain may own ({@code -E}, 1000); more is ENOSPC
 * @param maxEntrySize        bytes of one node record as tdb stores it ({@code -S}, 2048); ENOSPC
 * @param maxWatchesPerDomain watches a domain may hold ({@code -W}, 128); more is E2BIG
 * @param maxTransactions     open transactions per connection ({@code -t}, 10); more is ENOSPC
 * @param maxPermsPerNode     permission entries per node ({@code -A}, 5); more is ENOSPC
 */
public record Quotas(int maxNodesPerDomain, int maxEntrySize, int maxWatchesPerDomain,
                     int maxTransactions, int maxPermsPerNode) {

    public static final Quotas XEN_4_17 = new Quotas(1000, 2048, 128, 10, 5);
}
