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
import io.backplane.xenstore.holder.XenStoreHolder;
import io.backplane.xs.client.SocketXenStore;
import org.osgi.framework.Bundle;
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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The XenStore service. In {@code embedded} mode it owns the store and the xenstored daemon
 * (dom0 socket under {@code backplane.state.dir}, one socket per introduced domain) and serves
 * an in-process dom0 client; in {@code socket} mode it is a client of an existing xenstored.
 * Either way, other bundles see only {@link XenStore}, registered by the holder bundle
 * ({@link XenStoreHolder}) and forwarded to this component.
 *
 * <p>Stopped while the runtime runs (its bundle is updated), the embedded store hands over to its
 * successor through the holder, as xenstored's live update does: the store as bytes, the open
 * sockets, every connection with its watches; domains and their XenStore connections go on.
 * Only when the runtime stops, or the mode changes, does the store end with the component.
 *
 * <p>A configuration change keeps the store when it can: quotas apply live (as
 * {@code xenstore-control quota-set} does); only a change of mode, or of the socket in socket
 * mode, restarts the service, so its users rebind and watch the new store, and only while no
 * domain other than dom0 has a home in it (their state would be lost: they would all stop).
 */
@Component(service = XenStoreStatus.class, configurationPid = XenStoreComponent.PID, immediate = true)
@Designate(ocd = XenStoreConfig.class)
public class XenStoreComponent implements XenStore, ForwardingXsOps, XenStoreStatus {
    public static final String PID = "io.backplane.xenstore";
    public static final String STATE_DIR_PROPERTY = "backplane.state.dir";
    /** Hand-over key: System.nanoTime() when the predecessor began to hand over (one JVM, so comparable). */
    private static final String HAND_OVER_BEGAN = "began";

    private final Logger log;
    private final XenStoreHolder holder;
    private final BundleContext context;
    private final String mode;
    private Path socket;
    private Store store;
    private XenStoreDaemon daemon;
    private XenStore client;
    /** Set when the component restarts for a new mode: its store ends instead of being handed over. */
    private volatile boolean restarting;

    @Activate
    public XenStoreComponent(@Reference(service = LoggerFactory.class) Logger log, @Reference XenStoreHolder holder,
                             BundleContext context, XenStoreConfig config) {
        this.log = log;
        this.holder = holder;
        this.context = context;
        mode = config.mode();
        try {
            switch (mode) {
                case "embedded" -> startEmbedded(context, config);
                case "socket" -> {
                    socket = Path.of(config.socket_path());
                    client = new SocketXenStore(socket);
                    log.info("XenStore: using the xenstored at {}", socket);
                }
                default -> throw new IllegalArgumentException("XenStore mode must be 'embedded' or 'socket', not '" + mode + "'");
            }
        } catch (IOException | RuntimeException e) {
            // Stay active without a store, so the next configuration change reaches modified() and restarts.
            log.error("XenStore: mode {} could not start ({}); there is no XenStore service until its configuration"
                    + " changes", mode, e.toString());
            return;
        }
        holder.attach(this);
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
        Map<String, Object> handedOver = holder.takeHandOver();
        boolean taken = XenStoreDaemon.isHandOver(handedOver);
        store = taken ? XenStoreDaemon.restoreStore(handedOver, quotas(config)) : new Store(quotas(config));
        daemon = new XenStoreDaemon(store, stateDir, OperatorLog.of(log::info, log::warn, log::error));
        socket = daemon.dom0Socket();
        client = new EmbeddedXenStore(store);
        if (taken) {
            int kept = daemon.restore(handedOver);
            Object began = handedOver.get(HAND_OVER_BEGAN);
            long paused = began instanceof Long b ? TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - b) : -1;
            log.info("XenStore: taken over from the previous XenStore bundle: {} nodes, domains {}, {} connections"
                    + " kept with their watches, {} ms without service; xenstored socket {}", store.stats().nodes(),
                    store.introducedDomains(), kept, paused, socket);
            return;
        }
        daemon.start();
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
            restarting = true;
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

    /**
     * The runtime stopping, or a new mode, ends the store with the component, as before; anything
     * else (the bundle is updated, refreshed or stopped while the runtime runs) hands it over.
     */
    @Deactivate
    void deactivate() {
        boolean forGood = restarting || context.getBundle(0).getState() == Bundle.STOPPING;
        if (!forGood) {
            long began = System.nanoTime();
            holder.detach(this, () -> handOver(began));
            closeClient();
            return;
        }
        holder.detach(this, null);
        closeClient();
        if (daemon != null) {
            daemon.close();
            log.info("XenStore: daemon stopped, socket {} removed", socket);
        }
    }

    /** Called by the holder once no call runs in this store. */
    private Map<String, Object> handOver(long began) {
        if (daemon == null) {
            return Map.of(); // socket mode: the store is another process; only the users' watches move
        }
        try {
            Map<String, Object> h = new java.util.HashMap<>(daemon.handOver());
            h.put(HAND_OVER_BEGAN, began);
            log.info("XenStore: handing the store (domains {}) and its open connections over to the next XenStore bundle",
                    store.introducedDomains());
            return h;
        } catch (IOException | RuntimeException e) {
            log.error("XenStore: the hand-over to the next XenStore bundle failed; the store ends: {}", e.toString());
            daemon.close();
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            daemon.close();
            return Map.of();
        }
    }

    private void closeClient() {
        if (client instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("XenStore client did not close cleanly: {}", e.toString());
            }
        }
    }

    // ---- XenStoreStatus ----

    @Override
    public String mode() {
        return mode;
    }

    @Override
    public String socket() {
        return String.valueOf(socket);
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
