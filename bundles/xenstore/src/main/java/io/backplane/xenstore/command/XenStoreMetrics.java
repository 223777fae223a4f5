package io.backplane.xenstore.command;

import io.backplane.api.metrics.MetricSource;
import io.backplane.xenstore.XenStoreStatus;
import io.backplane.xenstore.store.StoreStats;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import java.util.Map;

/**
 * The embedded XenStore's numbers for the metrics endpoint, as {@code xs:stat} prints them: the
 * store's totals and, per domain, the nodes it owns and the watches and transactions its
 * connections hold (the quota use), its requests, quota refusals and watch events. Nothing in socket mode, where the store is another process.
 */
@Component(service = MetricSource.class)
public class XenStoreMetrics implements MetricSource {

    private final XenStoreStatus status;

    @Activate
    public XenStoreMetrics(@Reference XenStoreStatus status) {
        this.status = status;
    }

    @Override
    public void collect(Samples samples) {
        status.stats().ifPresent(s -> {
            samples.sample("xenstore_nodes", "nodes in the store", Map.of(), s.nodes());
            samples.sample("xenstore_connections", "connections to the store", Map.of(), s.connections());
            samples.sample("xenstore_watches", "watches registered", Map.of(), s.watches());
            samples.sample("xenstore_transactions", "transactions open", Map.of(), s.transactions());
            samples.sample("xenstore_socket_connections", "client sockets open on the daemon", Map.of(),
                    status.openConnections());
            for (StoreStats.DomainUse d : s.domains()) {
                Map<String, String> domain = Map.of("domid", Integer.toString(d.domid()));
                samples.sample("xenstore_domain_nodes", "nodes the domain owns (its quota use)", domain, d.nodes());
                samples.sample("xenstore_domain_watches", "watches the domain's connections hold", domain, d.watches());
                samples.sample("xenstore_domain_transactions", "transactions the domain's connections hold open", domain,
                        d.transactions());
                samples.sample("xenstore_domain_requests", "requests the domain's connections sent on the daemon's sockets"
                        + " since it was introduced", domain, d.requests());
                samples.sample("xenstore_domain_quota_hits", "requests of the domain a quota refused since it was introduced",
                        domain, d.quotaHits());
                samples.sample("xenstore_domain_watch_events", "watch events delivered to the domain since it was introduced",
                        domain, d.watchEvents());
            }
        });
    }
}
