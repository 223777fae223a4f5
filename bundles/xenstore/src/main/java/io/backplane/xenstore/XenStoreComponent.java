package io.backplane.xenstore;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsTransaction;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.api.xenstore.XsWatchListener;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.store.StoreStats;
import io.backplane.xenstore.wire.XenStoreDaemon;
import io.backplane.xs.client.ForwardingXsOps;
import io.backplane.xs.client.SocketXenStore;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.ComponentConstants;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The XenStore service. In {@code embedded} mode it owns the store and the xenstored daemon
 * (dom0 socket under {@code backplane.state.dir}, one socket per introduced domain) and serves
 * an in-process dom0 client; in {@code socket} mode it is a client of an existing xenstored.
 * Either way, other bundles see only {@link XenStore}.
 *
 * <p>A configuration change keeps the store when it can: quotas apply live (as
 * {@code xenstore-control quota-set} does); only a change of mode, or of the socket in socket
 * mode, restarts the service, so its users rebind and watch the new store, and only while no
 * domain other than dom0 has a home in it (their state would be lost: they would all stop).
 */
@Component(service = {XenStore.class, XenStoreStatus.class}, configurationPid = XenStoreComponent.PID, immediate = true)
@Designate(ocd = XenStoreConfig.class)
public class XenStoreComponent implements XenStore, ForwardingXsOps, XenStoreStatus {
    public static final String PID = "io.backplane.xenstore";
    public static final String STATE_DIR_PROPERTY = "backplane.state.dir";

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private String mode;
    private Path socket;
    private Store store;
    private XenStoreDaemon daemon;
    private XenStore client;

    @Activate
    void activate(BundleContext context, XenStoreConfig config) throws IOException {
        mode = config.mode();
        switch (mode) {
            case "embedded" -> startEmbedded(context, config);
            case "socket" -> {
                socket = Path.of(config.socket_path());
                client = new SocketXenStore(socket);
                log.info("XenStore: using the xenstored at {}", socket);
            }
            default -> throw new IllegalArgumentException("XenStore mode must be 'embedded' or 'socket', not '" + mode + "'");
        }
    }

    private void startEmbedded(BundleContext context, XenStoreConfig config) throws IOException {
        String dir = context.getProperty(STATE_DIR_PROPERTY);
        Path stateDir;
        if (dir == null || dir.isBlank()) {
            stateDir = Files.createTempDirectory("backplane");
            log.warn("Framework property {} is not set; XenStore sockets go to {}", STATE_DIR_PROPERTY, stateDir);
        } else {
            stateDir = Path.of(dir);
        }
        store = new Store(quotas(config));
        daemon = new XenStoreDaemon(store, stateDir, OperatorLog.of(log::info, log::warn, log::error));
        daemon.start();
        socket = daemon.dom0Socket();
        client = new EmbeddedXenStore(store);
        log.info("XenStore: embedded store started; xenstored socket {} (XENSTORED_RUNDIR={})", socket, socket.getParent());
    }

    @Modified
    void modified(ComponentContext context, XenStoreConfig config) {
        if (needsRestart(mode, socket, config)) {
            List<String> domains = guestDomains();
            if (!domains.isEmpty()) {
                // Their nodes, watches and connections live in this store: a restart would end every domain.
                log.warn("XenStore: mode {} -> {} not applied: domains {} keep their state in this store and a restart"
                        + " would lose it; the new mode applies at the next start of Backplane, or when the configuration"
                        + " is saved again with no domain running", mode, config.mode(), String.join(", ", domains));
                return;
            }
            log.info("XenStore: mode {} -> {}{}: restarting the XenStore service; its users reconnect to the new store",
                    mode, config.mode(), "socket".equals(config.mode()) ? " (socket " + config.socket_path() + ")" : "");
            // Leaving and coming back through SCR (not swapping the client in place) makes every
            // user of the service rebind, so no watch stays registered on the old store. SCR holds
            // this component's lock during modified(), so the disable must come from another thread.
            String name = (String) context.getProperties().get(ComponentConstants.COMPONENT_NAME);
            Thread restart = new Thread(() -> {
                context.disableComponent(name);
                context.enableComponent(name);
            }, "xenstore-restart");
            restart.setDaemon(true);
            restart.start();
            return;
        }
        if (store != null) {
            Quotas now = quotas(config);
            if (!now.equals(store.quotas())) {
                store.setQuotas(now);
                log.info("XenStore: guest quotas now {} nodes, {} bytes per node, {} watches, {} transactions, {} permissions;"
                                + " the store and its connections are kept", now.maxNodesPerDomain(), now.maxEntrySize(),
                        now.maxWatchesPerDomain(), now.maxTransactions(), now.maxPermsPerNode());
            }
        }
    }

    /** The domains other than dom0 that have a home in the store. */
    private List<String> guestDomains() {
        try {
            return client.exists("/local/domain") ? client.directory("/local/domain").stream().filter(d -> !d.equals("0")).toList()
                    : List.of();
        } catch (RuntimeException e) {
            return List.of(); // an external xenstored that went away: nothing of it to keep
        }
    }

    /** Whether {@code config} can only take effect by restarting: another mode, or another xenstored to use. */
    static boolean needsRestart(String mode, Path socket, XenStoreConfig config) {
        if (!config.mode().equals(mode)) {
            return true;
        }
        return "socket".equals(mode) && !Path.of(config.socket_path()).equals(socket);
    }

    private static Quotas quotas(XenStoreConfig config) {
        return new Quotas(config.quota_nodes(), config.quota_entry_size(), config.quota_watches(),
                config.quota_transactions(), config.quota_perms());
    }

    @Deactivate
    void deactivate() {
        if (client instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("XenStore client did not close cleanly: {}", e.toString());
            }
        }
        if (daemon != null) {
            daemon.close();
            log.info("XenStore: daemon stopped, socket {} removed", socket);
        }
    }

    // ---- XenStoreStatus ----

    @Override
    public String mode() {
        return mode;
    }

    @Override
    public String socket() {
        return socket.toString();
    }

    @Override
    public Optional<StoreStats> stats() {
        return store == null ? Optional.empty() : Optional.of(store.stats());
    }

    @Override
    public int openConnections() {
        return daemon == null ? 0 : daemon.openConnections();
    }

    // ---- XenStore, delegated to the client of the configured mode ----

    @Override
    public io.backplane.api.xenstore.XsOps nodeOps() {
        return client;
    }

    @Override
    public XsTransaction begin() {
        return client.begin();
    }

    @Override
    public XsWatch watch(String path, String token, XsWatchListener listener) {
        return client.watch(path, token, listener);
    }

    @Override
    public String getDomainPath(int domid) {
        return client.getDomainPath(domid);
    }

    @Override
    public void introduceDomain(int domid, long storeGfn, int storeEventChannel) {
        client.introduceDomain(domid, storeGfn, storeEventChannel);
    }

    @Override
    public void releaseDomain(int domid) {
        client.releaseDomain(domid);
    }

    @Override
    public boolean isDomainIntroduced(int domid) {
        return client.isDomainIntroduced(domid);
    }

    @Override
    public void setTarget(int domid, int targetDomid) {
        client.setTarget(domid, targetDomid);
    }
}
