package io.backplane.netback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.ring.RingShape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The xenbus part of netback (Linux xen-netback/xenbus.c): reads what the frontend wrote, in the
 * order and with the checks of netback's connect(), connect_data_rings() and
 * read_xenbus_vif_flags(). A refusal is a {@link DeviceException} carrying Linux's message; the
 * core writes it as the device's error node and closes the device.
 */
final class NetbackXenbus {
    private NetbackXenbus() {
    }

    /** The queues this backend offers the device: the published {@code multi-queue-max-queues}, 1 without it. */
    static int offeredQueues(BackendContext ctx) {
        String offered = offer(ctx, XenbusKeys.MULTI_QUEUE_MAX_QUEUES);
        return Math.max(1, (int) readUnsigned(Optional.ofNullable(offered), 1));
    }

    /** The most ring pages, as log2, this backend offers the device: the published {@code max-ring-page-order}, 0 without it. */
    static int offeredRingOrder(BackendContext ctx) {
        String offered = offer(ctx, XenbusKeys.MAX_RING_PAGE_ORDER);
        return (int) Math.min(VifFeatures.XENBUS_MAX_RING_GRANT_ORDER, readUnsigned(Optional.ofNullable(offered), 0));
    }

    private static String offer(BackendContext ctx, String key) {
        String offered = ctx.negotiation() != null ? ctx.negotiation().offer().get(key) : null;
        return offered != null ? offered : ctx.backendKey(key).orElse(null);
    }

    /**
     * The frontend's keys, read ahead in batches ({@link BackendContext#frontendKeys}: one round
     * trip to xenstored a batch instead of one a key; under emulation a round trip from dom0's JVM
     * is 5-10 ms, and a vif's connect or re-attach reads some 25 keys). A key not read ahead is
     * read alone.
     */
    private static final class FrontendKeys implements Function<String, Optional<String>> {
        private final BackendContext ctx;
        private final Map<String, Optional<String>> read = new HashMap<>();

        FrontendKeys(BackendContext ctx) {
            this.ctx = ctx;
        }

        // Plain loops: on an adoption's path a stream's or lambda's first link is itself slow under emulation.
        void readAhead(List<String> keys) {
            List<String> wanted = new ArrayList<>();
            for (String k : keys) {
                if (!read.containsKey(k) && !wanted.contains(k)) {
                    wanted.add(k);
                }
            }
            List<Optional<String>> values = ctx.frontendKeys(wanted);
            for (int i = 0; i < wanted.size(); i++) {
                read.put(wanted.get(i), values.get(i));
            }
        }

        @Override
        public Optional<String> apply(String key) {
            Optional<String> value = read.get(key);
            if (value == null) {
                value = ctx.frontendKey(key);
                read.put(key, value);
            }
            return value;
        }
    }

    static FrontendConfig read(BackendContext ctx) {
        String fe = ctx.id().frontendPath();
        int max = offeredQueues(ctx);
        FrontendKeys keys = new FrontendKeys(ctx);
        List<String> head = new ArrayList<>(List.of(XenbusKeys.MULTI_QUEUE_NUM_QUEUES, NetifKeys.REQUEST_RX_COPY,
                XenbusKeys.RING_PAGE_ORDER, NetifKeys.FEATURE_SG, NetifKeys.FEATURE_GSO_TCPV4, NetifKeys.FEATURE_GSO_TCPV6,
                NetifKeys.FEATURE_NO_CSUM_OFFLOAD, NetifKeys.FEATURE_IPV6_CSUM_OFFLOAD, NetifKeys.FEATURE_RX_NOTIFY,
                VifFeatures.PERSISTENT, XenbusKeys.REQUEST_UNMAP_BATCH));
        head.addAll(RingShape.KEYS);
        keys.readAhead(head);
        long requested = readUnsigned(keys.apply(XenbusKeys.MULTI_QUEUE_NUM_QUEUES), 1);
        if (requested > max || requested == 0) {
            // buggy or malicious guest
            throw new DeviceException("guest requested " + requested + " queues, but valid range is 1 - " + max + ".");
        }
        String mac = ctx.backendKey(NetifKeys.MAC).orElse("");
        if (!mac.matches("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}")) {
            throw new DeviceException("parsing " + ctx.id().backendPath() + "/" + NetifKeys.MAC);
        }
        long rxCopy = readUnsigned(keys.apply(NetifKeys.REQUEST_RX_COPY), 0);
        if (rxCopy != 1) {
            // Linux answers -EOPNOTSUPP: page flipping is gone, a frontend must accept copies.
            throw new DeviceException("reading " + fe + "/" + NetifKeys.REQUEST_RX_COPY
                    + ": the frontend must request rx copy (1), not "
                    + keys.apply(NetifKeys.REQUEST_RX_COPY).orElse("nothing"));
        }
        RingShape shape;
        try {
            shape = RingShape.negotiate(RingShape.offered(k -> Optional.ofNullable(offer(ctx, k))), keys, fe);
        } catch (IllegalArgumentException e) {
            throw new DeviceException(e.getMessage());
        }
        int order = readRingOrder(ctx, keys, requested == 1 ? fe : fe + "/" + XenbusKeys.queueDir(0));
        List<FrontendConfig.QueueKeys> queues = new ArrayList<>();
        List<String> queueKeys = new ArrayList<>();
        for (int q = 0; q < requested; q++) {
            queueKeys.addAll(queueKeyNames(requested == 1 ? "" : XenbusKeys.queueDir(q) + "/", order, shape));
        }
        keys.readAhead(queueKeys);
        for (int q = 0; q < requested; q++) {
            queues.add(readQueue(ctx, keys, requested == 1 ? "" : XenbusKeys.queueDir(q) + "/", q, order, shape));
        }
        // Taken only when offered: a frontend's promise alone does not make a strategy serve it.
        boolean persistent = flag(keys, VifFeatures.PERSISTENT) && "1".equals(offer(ctx, VifFeatures.PERSISTENT));
        long[] rate = readRate(ctx);
        return new FrontendConfig(queues, mac.toLowerCase(),
                flag(keys, NetifKeys.FEATURE_SG), flag(keys, NetifKeys.FEATURE_GSO_TCPV4), flag(keys, NetifKeys.FEATURE_GSO_TCPV6),
                !flag(keys, NetifKeys.FEATURE_NO_CSUM_OFFLOAD), flag(keys, NetifKeys.FEATURE_IPV6_CSUM_OFFLOAD),
                flag(keys, NetifKeys.FEATURE_RX_NOTIFY), rate[0], rate[1], order, persistent, shape,
                keys.apply(XenbusKeys.REQUEST_UNMAP_BATCH).orElse(null));
    }

    /**
     * The frontend's {@code ring-page-order} (one for every queue's TX and RX ring), checked as
     * blkback's read_per_ring_refs checks its own; -1 when the frontend wrote none.
     */
    private static int readRingOrder(BackendContext ctx, FrontendKeys keys, String firstDir) {
        Optional<String> key = keys.apply(XenbusKeys.RING_PAGE_ORDER);
        if (key.isEmpty()) {
            return -1;
        }
        Long asked = scan(key);
        if (asked == null) {
            throw new DeviceException("reading " + ctx.id().frontendPath() + "/" + XenbusKeys.RING_PAGE_ORDER
                    + ": '" + key.get() + "' is not an unsigned number");
        }
        int max = offeredRingOrder(ctx);
        if (asked > max) {
            throw new DeviceException(firstDir + "/request " + asked + " ring page order exceed max:" + max);
        }
        return asked.intValue();
    }

    /**
     * xen_net_read_rate(): the backend's {@code rate} = "bytes,usecs"; missing means unlimited,
     * and so does a value that does not parse (Linux warns and carries on).
     */
    private static long[] readRate(BackendContext ctx) {
        String rate = ctx.backendKey(NetifKeys.RATE).orElse("").trim();
        if (rate.isEmpty()) {
            return new long[] {0, 0};
        }
        if (!rate.matches("[0-9]{1,18},[0-9]{1,18}")) {
            ctx.log("Failed to parse network rate limit '" + rate + "'. Traffic unlimited.");
            return new long[] {0, 0};
        }
        String[] p = rate.split(",");
        return new long[] {Long.parseLong(p[0]), Long.parseLong(p[1])};
    }

    /** The keys {@link #readQueue} reads for the queue in {@code dir}. */
    private static List<String> queueKeyNames(String dir, int order, RingShape shape) {
        int pages = order < 0 ? 1 : 1 << order;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < shape.grantedPages(pages); i++) {
            names.add(dir + NetifKeys.TX_PREFIX + refName(i, pages, order));
            names.add(dir + NetifKeys.RX_PREFIX + refName(i, pages, order));
        }
        names.addAll(List.of(dir + NetifKeys.EVENT_CHANNEL_TX, dir + NetifKeys.EVENT_CHANNEL_RX, dir + XenbusKeys.EVENT_CHANNEL));
        return names;
    }

    /** Ring page {@code i}'s ref key, without the tx-/rx- prefix (request pages, then response pages with separate rings). */
    private static String refName(int i, int pages, int order) {
        String base = i < pages ? XenbusKeys.RING_REF : RingShape.RSP_RING_REF;
        return order < 0 ? base : base + (i % pages);
    }

    /**
     * connect_data_rings(): ring refs ({@code tx-ring-ref}/{@code rx-ring-ref}, or
     * {@code tx-ring-ref0..N-1}/{@code rx-ring-ref0..N-1} when the frontend wrote an order; with
     * separate rings the response rings' {@code tx-rsp-ring-ref}/{@code rx-rsp-ring-ref} pages
     * after them, numbered the same way), then split event channels, then the single one.
     */
    private static FrontendConfig.QueueKeys readQueue(BackendContext ctx, FrontendKeys keys, String dir, int id, int order,
                                                      RingShape shape) {
        String xspath = ctx.id().frontendPath() + (dir.isEmpty() ? "" : "/" + dir.substring(0, dir.length() - 1));
        int pages = order < 0 ? 1 : 1 << order;
        int[] tx = new int[shape.grantedPages(pages)];
        int[] rx = new int[tx.length];
        for (int i = 0; i < tx.length; i++) {
            String name = refName(i, pages, order);
            Long t = scan(keys.apply(dir + NetifKeys.TX_PREFIX + name));
            Long r = scan(keys.apply(dir + NetifKeys.RX_PREFIX + name));
            if (t == null || r == null) {
                throw new DeviceException("reading " + xspath + "/" + name
                        + (i < pages ? "" : " (separate rings)"));
            }
            tx[i] = t.intValue();
            rx[i] = r.intValue();
        }
        Long txEvt = scan(keys.apply(dir + NetifKeys.EVENT_CHANNEL_TX));
        Long rxEvt = scan(keys.apply(dir + NetifKeys.EVENT_CHANNEL_RX));
        if (txEvt == null || rxEvt == null) {
            txEvt = scan(keys.apply(dir + XenbusKeys.EVENT_CHANNEL));
            if (txEvt == null) {
                throw new DeviceException("reading " + xspath + "/event-channel(-tx/rx)");
            }
            rxEvt = txEvt;
        }
        return new FrontendConfig.QueueKeys(id, tx, rx, txEvt.intValue(), rxEvt.intValue());
    }

    private static boolean flag(FrontendKeys keys, String key) {
        return readUnsigned(keys.apply(key), 0) != 0;
    }

    /** xenbus_read_unsigned(): the default when the key is missing or not a number. */
    static long readUnsigned(Optional<String> value, long dflt) {
        Long v = scan(value);
        return v == null ? dflt : v;
    }

    /** xenbus_scanf("%u"/"%lu"): a u32 in decimal, null when missing or malformed. */
    private static Long scan(Optional<String> value) {
        if (value.isEmpty()) {
            return null;
        }
        String s = value.get().trim();
        if (!s.matches("[0-9]{1,10}")) {
            return null;
        }
        long v = Long.parseLong(s);
        return v > 0xFFFF_FFFFL ? null : v;
    }
}
