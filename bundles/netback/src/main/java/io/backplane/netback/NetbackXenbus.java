package io.backplane.netback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.ring.RingShape;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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

    static FrontendConfig read(BackendContext ctx) {
        String fe = ctx.id().frontendPath();
        int max = offeredQueues(ctx);
        long requested = readUnsigned(ctx.frontendKey(XenbusKeys.MULTI_QUEUE_NUM_QUEUES), 1);
        if (requested > max || requested == 0) {
            // buggy or malicious guest
            throw new DeviceException("guest requested " + requested + " queues, but valid range is 1 - " + max + ".");
        }
        String mac = ctx.backendKey(NetifKeys.MAC).orElse("");
        if (!mac.matches("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}")) {
            throw new DeviceException("parsing " + ctx.id().backendPath() + "/" + NetifKeys.MAC);
        }
        long rxCopy = readUnsigned(ctx.frontendKey(NetifKeys.REQUEST_RX_COPY), 0);
        if (rxCopy != 1) {
            // Linux answers -EOPNOTSUPP: page flipping is gone, a frontend must accept copies.
            throw new DeviceException("reading " + fe + "/" + NetifKeys.REQUEST_RX_COPY
                    + ": the frontend must request rx copy (1), not "
                    + ctx.frontendKey(NetifKeys.REQUEST_RX_COPY).orElse("nothing"));
        }
        RingShape shape;
        try {
            shape = RingShape.negotiate(RingShape.offered(k -> Optional.ofNullable(offer(ctx, k))), ctx::frontendKey, fe);
        } catch (IllegalArgumentException e) {
            throw new DeviceException(e.getMessage());
        }
        int order = readRingOrder(ctx, requested == 1 ? fe : fe + "/" + XenbusKeys.queueDir(0));
        List<FrontendConfig.QueueKeys> queues = new ArrayList<>();
        for (int q = 0; q < requested; q++) {
            queues.add(readQueue(ctx, requested == 1 ? "" : XenbusKeys.queueDir(q) + "/", q, order, shape));
        }
        // Taken only when offered: a frontend's promise alone does not make a strategy serve it.
        boolean persistent = flag(ctx, VifFeatures.PERSISTENT) && "1".equals(offer(ctx, VifFeatures.PERSISTENT));
        long[] rate = readRate(ctx);
        return new FrontendConfig(queues, mac.toLowerCase(),
                flag(ctx, NetifKeys.FEATURE_SG), flag(ctx, NetifKeys.FEATURE_GSO_TCPV4), flag(ctx, NetifKeys.FEATURE_GSO_TCPV6),
                !flag(ctx, NetifKeys.FEATURE_NO_CSUM_OFFLOAD), flag(ctx, NetifKeys.FEATURE_IPV6_CSUM_OFFLOAD),
                flag(ctx, NetifKeys.FEATURE_RX_NOTIFY), rate[0], rate[1], order, persistent, shape,
                ctx.frontendKey(XenbusKeys.REQUEST_UNMAP_BATCH).orElse(null));
    }

    /**
     * The frontend's {@code ring-page-order} (one for every queue's TX and RX ring), checked as
     * blkback's read_per_ring_refs checks its own; -1 when the frontend wrote none.
     */
    private static int readRingOrder(BackendContext ctx, String firstDir) {
        Optional<String> key = ctx.frontendKey(XenbusKeys.RING_PAGE_ORDER);
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

    /**
     * connect_data_rings(): ring refs ({@code tx-ring-ref}/{@code rx-ring-ref}, or
     * {@code tx-ring-ref0..N-1}/{@code rx-ring-ref0..N-1} when the frontend wrote an order; with
     * separate rings the response rings' {@code tx-rsp-ring-ref}/{@code rx-rsp-ring-ref} pages
     * after them, numbered the same way), then split event channels, then the single one.
     */
    private static FrontendConfig.QueueKeys readQueue(BackendContext ctx, String dir, int id, int order,
                                                      RingShape shape) {
        String xspath = ctx.id().frontendPath() + (dir.isEmpty() ? "" : "/" + dir.substring(0, dir.length() - 1));
        int pages = order < 0 ? 1 : 1 << order;
        int[] tx = new int[shape.grantedPages(pages)];
        int[] rx = new int[tx.length];
        for (int i = 0; i < tx.length; i++) {
            String base = i < pages ? XenbusKeys.RING_REF : RingShape.RSP_RING_REF;
            String name = order < 0 ? base : base + (i % pages);
            Long t = scan(ctx.frontendKey(dir + NetifKeys.TX_PREFIX + name));
            Long r = scan(ctx.frontendKey(dir + NetifKeys.RX_PREFIX + name));
            if (t == null || r == null) {
                throw new DeviceException("reading " + xspath + "/" + name
                        + (i < pages ? "" : " (separate rings)"));
            }
            tx[i] = t.intValue();
            rx[i] = r.intValue();
        }
        Long txEvt = scan(ctx.frontendKey(dir + NetifKeys.EVENT_CHANNEL_TX));
        Long rxEvt = scan(ctx.frontendKey(dir + NetifKeys.EVENT_CHANNEL_RX));
        if (txEvt == null || rxEvt == null) {
            txEvt = scan(ctx.frontendKey(dir + XenbusKeys.EVENT_CHANNEL));
            if (txEvt == null) {
                throw new DeviceException("reading " + xspath + "/event-channel(-tx/rx)");
            }
            rxEvt = txEvt;
        }
        return new FrontendConfig.QueueKeys(id, tx, rx, txEvt.intValue(), rxEvt.intValue());
    }

    private static boolean flag(BackendContext ctx, String key) {
        return readUnsigned(ctx.frontendKey(key), 0) != 0;
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
