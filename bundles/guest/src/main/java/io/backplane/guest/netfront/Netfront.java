package io.backplane.guest.netfront;

import static io.backplane.api.backend.XenbusState.CLOSED;
import static io.backplane.api.backend.XenbusState.CLOSING;
import static io.backplane.api.backend.XenbusState.CONNECTED;
import static io.backplane.api.backend.XenbusState.INITIALISING;

import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsTransaction;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.guest.sim.SimGuest;
import io.backplane.ring.RingShape;
import io.backplane.ring.layout.NetifConstants;
import io.backplane.api.backend.XenbusState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A netfront for one {@code device/vif/N} of this guest, following Linux xen-netfront's xenbus
 * side: it waits for the backend's InitWait, chooses its queues as min(own, backend's
 * {@code multi-queue-max-queues}), sets up rings and channels (split when the backend offers
 * {@code feature-split-event-channels}), writes its keys in Linux's order in one transaction and
 * switches to Connected. When the backend goes through Closing it tears everything down and goes
 * Closing, then Closed; once the backend is Closed too and the device still online without an
 * error, it goes back to Initialising, and connects again at the backend's InitWait (the
 * reconnect protocol of docs/backends.md). Counters are reported
 * under {@code device/vif/N/stats/queue-K/} every half second.
 */
public final class Netfront implements AutoCloseable {

    private final SimGuest guest;
    private final XenStore store;
    private final int devid;
    private final NetfrontOptions options;
    private final String dir;
    private final ExecutorService xenbus;
    private final ScheduledExecutorService reporter;
    private final Map<String, String> reported = new HashMap<>();
    private String backend;
    private int backendId;
    private XsWatch watch;
    private volatile XenbusState state = INITIALISING;
    private volatile List<NetfrontQueue> queues = List.of();
    private final List<QueueCounters> finished = new ArrayList<>();
    private int connections;
    private final List<NetfrontQueue> unreleased = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile TxOffload txOffload = new TxOffload(false, false, false, false);

    /** What the guest's stack may hand the ring, after xennet_fix_features(). */
    record TxOffload(boolean csum4, boolean csum6, boolean tso4, boolean tso6) {
        boolean csum(int family) {
            return family == 6 ? csum6 : csum4;
        }

        boolean tso(int family) {
            return family == 6 ? tso6 : tso4;
        }
    }

    public Netfront(SimGuest guest, XenStore store, int devid, NetfrontOptions options) {
        this.guest = guest;
        this.store = store;
        this.devid = devid;
        this.options = options;
        this.dir = "/local/domain/" + guest.domid() + "/device/vif/" + devid;
        this.xenbus = Executors.newSingleThreadExecutor(r -> daemon(r, "netfront-" + devid + "-xenbus"));
        this.reporter = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "netfront-" + devid + "-stats"));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** netfront_probe(): reads where the backend is and watches its state. */
    public void start() {
        backend = store.read(dir + "/" + XenbusKeys.BACKEND);
        backendId = Integer.parseInt(store.read(dir + "/" + XenbusKeys.BACKEND_ID));
        watch = store.watch(backend + "/" + XenbusKeys.STATE, "netfront-" + devid, (path, token) -> xenbus.execute(this::backendChanged));
        reporter.scheduleWithFixedDelay(this::report, 500, 500, TimeUnit.MILLISECONDS);
        log("probed, backend " + backend + ", options " + options);
    }

    /** netback_changed(). */
    private void backendChanged() {
        XenbusState be;
        try {
            be = XenbusState.ofWire(store.tryRead(backend + "/" + XenbusKeys.STATE).orElse(CLOSED.wire()));
        } catch (RuntimeException e) {
            return;
        }
        try {
            switch (be) {
                case INIT_WAIT -> {
                    if (state == CLOSED && reconnectable()) {
                        switchState(INITIALISING);
                    }
                    if (state == INITIALISING) {
                        connect();
                    }
                }
                case CONNECTED -> {
                    if (state == CONNECTED && queues.stream().noneMatch(NetfrontQueue::running)) {
                        startTraffic();
                    }
                }
                case CLOSING, CLOSED -> {
                    if (state != CLOSED) {
                        switchState(CLOSING);
                        teardown("backend is " + (be == CLOSING ? "closing" : "closed"));
                        switchState(CLOSED);
                    }
                    if (be == CLOSED && reconnectable()) {
                        switchState(INITIALISING);    // ask the backend for InitWait again
                    }
                }
                default -> {
                }
            }
        } catch (RuntimeException e) {
            log("failed: " + e.getMessage());
            teardown("error");
            switchState(CLOSED);
        }
    }

    /**
     * Whether to come back after the backend closed: the device is still online and the backend
     * reported no error (a refused or disabled vif stays closed, as Linux's netfront does).
     */
    private boolean reconnectable() {
        return "1".equals(store.tryRead(backend + "/" + XenbusKeys.ONLINE).orElse("0")) && !store.exists(backend + "/" + XenbusKeys.ERROR);
    }

    /** xennet_connect() and talk_to_netback(). */
    private void connect() {
        if (readUnsigned(backend + "/" + NetifKeys.FEATURE_RX_COPY, 0) != 1) {
            // As xennet_connect: -ENODEV, and the frontend stays Initialising.
            log("backend does not support copying receive path (no feature-rx-copy): not connecting");
            return;
        }
        releaseLeftovers();
        int max = (int) readUnsigned(backend + "/" + XenbusKeys.MULTI_QUEUE_MAX_QUEUES, 1);
        boolean offersQueues = store.exists(backend + "/" + XenbusKeys.MULTI_QUEUE_MAX_QUEUES);
        int n = options.forceQueues() >= 0 ? options.forceQueues() : Math.max(1, Math.min(options.queues(), max));
        boolean split = options.split() && readUnsigned(backend + "/" + NetifKeys.FEATURE_SPLIT_EVENT_CHANNELS, 0) == 1;
        boolean sg = readUnsigned(backend + "/" + NetifKeys.FEATURE_SG, 0) == 1;
        String macKey = store.tryRead(dir + "/" + NetifKeys.MAC).orElse("00:16:3e:00:00:0" + devid);
        byte[] ip = options.ip().isEmpty() ? null : Frames.parseIp(options.ip());
        NetfrontStack stack = new NetfrontStack(Frames.parseMac(macKey), ip, NetfrontStack.RxFeatures.of(options));
        // xennet_fix_features(): IPv4 checksum offload is always on (netfront never reads the
        // backend's feature-no-csum-offload); IPv6 checksum offload, SG and TSO/TSO6 only when
        // the backend wrote them; netdev_fix_features() drops TSO without SG or checksum offload.
        boolean csum4 = options.csum();
        boolean csum6 = options.csum() && readUnsigned(backend + "/" + NetifKeys.FEATURE_IPV6_CSUM_OFFLOAD, 0) == 1;
        boolean tso4 = options.gso() && sg && csum4 && readUnsigned(backend + "/" + NetifKeys.FEATURE_GSO_TCPV4, 0) == 1;
        boolean tso6 = options.gso() && sg && csum6 && readUnsigned(backend + "/" + NetifKeys.FEATURE_GSO_TCPV6, 0) == 1;
        txOffload = new TxOffload(csum4, csum6, tso4, tso6);
        // As blkfront chooses its ring: min(own limit, the backend's max-ring-page-order).
        int order = (int) Math.min(options.ringOrder(), readUnsigned(backend + "/" + XenbusKeys.MAX_RING_PAGE_ORDER, 0));
        // Persistent grants: the pool below (one page per ring slot, granted once) is reused for
        // the whole connection either way; with the feature the backend is told so.
        boolean persistent = options.persistent() && readUnsigned(backend + "/" + XenbusKeys.FEATURE_PERSISTENT, 0) == 1;
        RingShape layout = options.layouts().and(RingShape.offered(k -> store.tryRead(backend + "/" + k)));
        List<NetfrontQueue> qs = new ArrayList<>();
        for (int q = 0; q < Math.max(n, 1); q++) {
            qs.add(new NetfrontQueue(guest, backendId, q, split, sg, stack, order, layout, options.rxReadOnly()));
        }
        if (store.exists(backend + "/" + NetifKeys.FEATURE_XDP_HEADROOM)) {
            store.write(dir + "/xdp-headroom", "0");
        }
        store.transaction(tx -> {
            // As talk_to_netback: the count whenever the backend offers queues (also 1, so that a
            // reconnect with fewer queues overwrites an earlier count); one queue's keys are flat.
            if (offersQueues || options.forceQueues() >= 0) {
                tx.write(dir + "/" + XenbusKeys.MULTI_QUEUE_NUM_QUEUES, Integer.toString(n));
            }
            for (NetfrontQueue q : qs) {
                writeQueueKeys(tx, q, n == 1 ? dir : dir + "/" + XenbusKeys.queueDir(q.id), order);
            }
            // The new keys only when taken, so a one-page ring without persistent grants is
            // written exactly as Linux netfront writes it; an earlier connection's are removed.
            optional(tx, dir + "/" + XenbusKeys.RING_PAGE_ORDER, order > 0 ? Integer.toString(order) : null);
            optional(tx, dir + "/" + XenbusKeys.FEATURE_PERSISTENT, persistent ? "1" : null);
            // The chosen layout features as 1; one chosen at an earlier connect but not now goes,
            // so a frontend on ring.h's layout has none of the keys.
            for (String key : RingShape.KEYS) {
                if (layout.features().containsKey(key)) {
                    tx.write(dir + "/" + key, "1");
                } else if (tx.tryRead(dir + "/" + key).isPresent()) {
                    tx.rm(dir + "/" + key);
                }
            }
            tx.write(dir + "/" + NetifKeys.REQUEST_RX_COPY, "1");
            tx.write(dir + "/" + NetifKeys.FEATURE_RX_NOTIFY, "1");
            NetfrontStack.RxFeatures rxf = stack.advertised();
            if (rxf.sg()) {
                tx.write(dir + "/" + NetifKeys.FEATURE_SG, "1");
            }
            if (rxf.gsoTcpv4()) {
                tx.write(dir + "/" + NetifKeys.FEATURE_GSO_TCPV4, "1");
            }
            if (rxf.gsoTcpv6()) {
                tx.write(dir + "/" + NetifKeys.FEATURE_GSO_TCPV6, "1");
            }
            if (rxf.ipv6Csum()) {
                tx.write(dir + "/" + NetifKeys.FEATURE_IPV6_CSUM_OFFLOAD, "1");
            }
            if (!rxf.csum()) {
                tx.write(dir + "/" + NetifKeys.FEATURE_NO_CSUM_OFFLOAD, "1");
            }
            return null;
        });
        queues = List.copyOf(qs);
        connections++;
        switchState(CONNECTED);
        log("connected " + n + (n == 1 ? " queue" : " queues") + " (backend offers " + max + "), "
                + (split ? "split" : "shared") + " event channels, " + (1 << order) + "-page rings, ring layout "
                + layout.describe() + (persistent ? ", persistent grants" : "") + ", connection " + connections
                + ", tx " + txOffload);
        if (XenbusState.ofWire(store.tryRead(backend + "/" + XenbusKeys.STATE).orElse(null)) == CONNECTED) {
            startTraffic();
        }
    }

    private void optional(XsTransaction tx, String path, String value) {
        if (value != null) {
            tx.write(path, value);
        } else if (store.exists(path)) {
            tx.rm(path);
        }
    }

    /**
     * One page: {@code tx-ring-ref}/{@code rx-ring-ref}; more: {@code tx-ring-ref0..N-1}, as
     * blkfront's {@code ring-refN}; with separate rings the response rings' pages follow as
     * {@code tx-rsp-ring-ref}/{@code rx-rsp-ring-ref}, numbered the same way.
     */
    private static void writeQueueKeys(XsTransaction tx, NetfrontQueue q, String path, int order) {
        int pages = 1 << order;
        for (int i = 0; i < q.txRingRefs.length; i++) {
            String base = i < pages ? XenbusKeys.RING_REF : RingShape.RSP_RING_REF;
            String name = order > 0 ? base + (i % pages) : base;
            tx.write(path + "/" + NetifKeys.TX_PREFIX + name, Integer.toString(q.txRingRefs[i]));
            tx.write(path + "/" + NetifKeys.RX_PREFIX + name, Integer.toString(q.rxRingRefs[i]));
        }
        if (q.split()) {
            tx.write(path + "/" + NetifKeys.EVENT_CHANNEL_TX, Integer.toString(q.txEvent.port()));
            tx.write(path + "/" + NetifKeys.EVENT_CHANNEL_RX, Integer.toString(q.rxEvent.port()));
        } else {
            tx.write(path + "/" + XenbusKeys.EVENT_CHANNEL, Integer.toString(q.txEvent.port()));
        }
    }

    private void startTraffic() {
        for (NetfrontQueue q : queues) {
            q.start(() -> runQueue(q));
        }
    }

    /** A queue's thread: reap, answer, generate {@code count} frames at {@code rate}, sleep. */
    private void runQueue(NetfrontQueue q) {
        byte[] mac = Frames.parseMac(store.tryRead(dir + "/" + NetifKeys.MAC).orElse("00:16:3e:00:00:0" + devid));
        long interval = options.rate() > 0 ? 1_000_000_000L / options.rate() : 0;
        long next = System.nanoTime();
        boolean bogusSent = options.bogus().isEmpty() || q.id != 0;
        Generator gen = new Generator(q, mac, txOffload);
        while (q.running()) {
            boolean worked = q.poll();
            if (!bogusSent && q.freeTxSlots() >= 22) {
                q.sendBogus(options.bogus());
                bogusSent = true;
                log("sent a bogus request on purpose (" + options.bogus() + ")");
            }
            long now = System.nanoTime();
            if (gen.more() && (gen.midSend() || now - next >= 0) && q.freeTxSlots() >= 17) {
                if (gen.step()) {
                    if (!gen.midSend()) {
                        next += interval;
                    }
                    worked = true;
                }
            }
            if (!worked) {
                q.sleep(gen.more() ? Math.max(0, next - System.nanoTime()) : Long.MAX_VALUE);
            }
        }
    }

    /**
     * Generates a queue's traffic into its TX buffer, allocating nothing per frame: the kinds of
     * {@link NetfrontOptions#kinds()} in turn, sizes cycled per kind. A TCP send larger than one
     * MSS goes as one GSO frame when the TX offloads allow it, else as MSS segments, one per step.
     */
    private final class Generator {
        private final NetfrontQueue q;
        private final byte[] mac;
        private final TxOffload off;
        private final List<NetfrontOptions.Kind> kinds = options.kinds();
        private final L4Traffic l4;
        private long generated;
        private int segFamily;
        private int segLeft;

        Generator(NetfrontQueue q, byte[] mac, TxOffload off) {
            this.q = q;
            this.mac = mac;
            this.off = off;
            this.l4 = new L4Traffic(mac, Frames.parseMac(options.peerMac()), options.ip4(), options.peer4(),
                    options.ip6Bytes(), options.peer6Bytes(), q.id);
        }

        boolean more() {
            return generated < options.count() || segLeft > 0;
        }

        /** True while a TCP send is being cut into segments. */
        boolean midSend() {
            return segLeft > 0;
        }

        /** Sends one frame; false when the ring had no room (try again later). */
        boolean step() {
            byte[] b = q.txBuffer;
            if (segLeft > 0) {
                int mss = options.mssFor(segFamily);
                int n = Math.min(mss, segLeft);
                boolean partial = off.csum(segFamily);
                if (!q.fits(L4Traffic.headers(segFamily, Checksums.PROTO_TCP) + n, false)) {
                    return false;                   // built only when it fits: the sequence advances
                }
                int len = l4.tcp(b, segFamily, n, partial);
                q.send(b, len, partial ? CSUM_FLAGS : 0, 0, 0);
                q.counters.txSegmented.incrementAndGet();
                segLeft -= n;
                if (segLeft == 0) {
                    generated++;
                }
                return true;
            }
            NetfrontOptions.Kind k = kinds.get((int) (generated % kinds.size()));
            int size = options.sizes().get((int) ((generated / kinds.size()) % options.sizes().size()));
            int len;
            int flags = 0;
            int gsoType = 0;
            int gsoSize = 0;
            if (k.family() == 0) {
                if (!q.fits(size, false)) {
                    return false;
                }
                len = Frames.testFrameInto(b, mac, q.id, generated, size);
            } else if (k.proto() == Checksums.PROTO_UDP) {
                if (!q.fits(Math.max(size, L4Traffic.minUdpFrame(k.family())), false)) {
                    return false;
                }
                boolean partial = off.csum(k.family());
                len = l4.udp(b, k.family(), size, partial);
                flags = partial ? CSUM_FLAGS : 0;
            } else {
                int mss = options.mssFor(k.family());
                int payload = Math.max(1, size - L4Traffic.headers(k.family(), Checksums.PROTO_TCP));
                if (payload > mss && !off.tso(k.family())) {
                    segFamily = k.family();
                    segLeft = payload;
                    return step();
                }
                if (!q.fits(L4Traffic.headers(k.family(), Checksums.PROTO_TCP) + payload, payload > mss)) {
                    return false;
                }
                boolean partial = off.csum(k.family());
                len = l4.tcp(b, k.family(), payload, partial);
                flags = partial ? CSUM_FLAGS : 0;
                if (payload > mss) {
                    gsoType = k.family() == 6 ? NetifConstants.XEN_NETIF_GSO_TYPE_TCPV6 : NetifConstants.XEN_NETIF_GSO_TYPE_TCPV4;
                    gsoSize = mss;
                }
            }
            q.send(b, len, flags, gsoType, gsoSize);
            generated++;
            return true;
        }
    }

    private static final int CSUM_FLAGS = NetifConstants.NETTXF_CSUM_BLANK | NetifConstants.NETTXF_DATA_VALIDATED;

    private void teardown(String why) {
        List<NetfrontQueue> qs = queues;
        queues = List.of();
        for (NetfrontQueue q : qs) {
            q.close();
            synchronized (finished) {
                finished.add(q.counters);
            }
            unreleased.add(q);
        }
        releaseLeftovers();
        if (!qs.isEmpty()) {
            log("disconnected (" + why + "), " + qs.size() + " queues torn down");
        }
        report();
    }

    /** Ends the grants of torn-down queues once the backend no longer maps them. */
    private void releaseLeftovers() {
        unreleased.removeIf(NetfrontQueue::release);
    }

    private void switchState(XenbusState s) {
        state = s;
        store.write(dir + "/" + XenbusKeys.STATE, s.wire());
    }

    /** Totals over every queue of every connection so far, by counter name. */
    public Map<String, Long> totals() {
        Map<String, Long> sum = new java.util.LinkedHashMap<>();
        List<QueueCounters> all = new ArrayList<>();
        synchronized (finished) {
            all.addAll(finished);
        }
        for (NetfrontQueue q : queues) {
            all.add(q.counters);
        }
        for (QueueCounters c : all) {
            c.snapshot().forEach((k, v) -> sum.merge(k, v, Long::sum));
        }
        return sum;
    }

    /** Writes the counters that changed: {@code stats/queue-K/<name>} and {@code stats/<name>} totals. */
    private synchronized void report() {
        try {
            releaseLeftovers();
            Map<String, String> now = new java.util.LinkedHashMap<>();
            for (NetfrontQueue q : queues) {
                q.counters.snapshot().forEach((k, v) -> now.put("stats/queue-" + q.id + "/" + k, Long.toString(v)));
            }
            totals().forEach((k, v) -> now.put("stats/" + k, Long.toString(v)));
            now.put("stats/connections", Integer.toString(connections));
            for (Map.Entry<String, String> e : now.entrySet()) {
                if (!e.getValue().equals(reported.get(e.getKey()))) {
                    store.write(dir + "/" + e.getKey(), e.getValue());
                    reported.put(e.getKey(), e.getValue());
                }
            }
        } catch (RuntimeException e) {
            // XenStore gone with the domain; the log has the totals
        }
    }

    private long readUnsigned(String path, long dflt) {
        try {
            return Long.parseLong(store.tryRead(path).orElse(Long.toString(dflt)).trim());
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    private void log(String msg) {
        System.out.println("netfront vif/" + devid + ": " + msg);
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
        xenbus.shutdown();
        try {
            xenbus.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        teardown("guest shutting down");
        reporter.shutdownNow();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (!unreleased.isEmpty() && System.nanoTime() < deadline) {
            releaseLeftovers();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        log("totals " + totals() + (unreleased.isEmpty() ? "" : "; " + unreleased.size() + " queues' grants still mapped by the backend"));
    }
}
