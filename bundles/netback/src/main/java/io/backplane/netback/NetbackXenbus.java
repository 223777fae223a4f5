package io.backplane.netback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.DeviceException;
import io.backplane.ring.RingShape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
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
        String offered = ctx.negotiation() != null ? ctx.negotiation().offer().get(VifFeatures.MAX_QUEUES) : null;
        if (offered == null) {
            offered = ctx.backendKey(VifFeatures.MAX_QUEUES).orElse("1");
        }
        return Math.max(1, (int) readUnsigned(Optional.of(offered), 1));
    }

    static FrontendConfig read(BackendContext ctx) {
        String fe = ctx.id().frontendPath();
        int max = offeredQueues(ctx);
        long requested = readUnsigned(ctx.frontendKey(VifFeatures.NUM_QUEUES), 1);
        if (requested > max || requested == 0) {
            // buggy or malicious guest
            throw new DeviceException("guest requested " + requested + " queues, but valid range is 1 - " + max + ".");
        }
        String mac = ctx.backendKey("mac").orElse("");
        if (!mac.matches("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}")) {
            throw new DeviceException("parsing " + ctx.id().backendPath() + "/mac");
        }
        long rxCopy = readUnsigned(ctx.frontendKey(VifFeatures.REQUEST_RX_COPY), 0);
        if (rxCopy != 1) {
            // Linux answers -EOPNOTSUPP: page flipping is gone, a frontend must accept copies.
            throw new DeviceException("reading " + fe + "/" + VifFeatures.REQUEST_RX_COPY
                    + ": the frontend must request rx copy (1), not "
                    + ctx.frontendKey(VifFeatures.REQUEST_RX_COPY).orElse("nothing"));
        }
        RingShape shape;
        try {
            shape = RingShape.negotiate(offeredLayouts(ctx), ctx::frontendKey, fe);
        } catch (IllegalArgumentException e) {
            throw new DeviceException(e.getMessage());
        }
        List<FrontendConfig.QueueKeys> queues = new ArrayList<>();
        for (int q = 0; q < requested; q++) {
            queues.add(readQueue(ctx, requested == 1 ? "" : "queue-" + q + "/", q, shape));
        }
        long[] rate = readRate(ctx);
        return new FrontendConfig(queues, mac.toLowerCase(),
                flag(ctx, VifFeatures.SG), flag(ctx, VifFeatures.GSO_TCPV4), flag(ctx, VifFeatures.GSO_TCPV6),
                !flag(ctx, VifFeatures.NO_CSUM_OFFLOAD), flag(ctx, VifFeatures.IPV6_CSUM_OFFLOAD),
                flag(ctx, VifFeatures.RX_NOTIFY), rate[0], rate[1], shape);
    }

    /** The ring layout features this vif offers: the published offer, else the backend's keys. */
    private static RingShape offeredLayouts(BackendContext ctx) {
        Map<String, String> offer = new HashMap<>();
        for (String key : RingShape.KEYS) {
            String v = ctx.negotiation() != null ? ctx.negotiation().offer().get(key) : null;
            offer.put(key, v != null ? v : ctx.backendKey(key).orElse("0"));
        }
        return RingShape.of(offer);
    }

    /**
     * xen_net_read_rate(): the backend's {@code rate} = "bytes,usecs"; missing means unlimited,
     * and so does a value that does not parse (Linux warns and carries on).
     */
    private static long[] readRate(BackendContext ctx) {
        String rate = ctx.backendKey("rate").orElse("").trim();
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

    /** connect_data_rings(): ring refs, then split event channels, then the single one. */
    private static FrontendConfig.QueueKeys readQueue(BackendContext ctx, String dir, int id, RingShape shape) {
        String xspath = ctx.id().frontendPath() + (dir.isEmpty() ? "" : "/" + dir.substring(0, dir.length() - 1));
        Long tx = scan(ctx.frontendKey(dir + "tx-ring-ref"));
        Long rx = scan(ctx.frontendKey(dir + "rx-ring-ref"));
        if (tx == null || rx == null) {
            throw new DeviceException("reading " + xspath + "/ring-ref");
        }
        Long txEvt = scan(ctx.frontendKey(dir + VifFeatures.EVENT_CHANNEL_TX));
        Long rxEvt = scan(ctx.frontendKey(dir + VifFeatures.EVENT_CHANNEL_RX));
        if (txEvt == null || rxEvt == null) {
            txEvt = scan(ctx.frontendKey(dir + "event-channel"));
            if (txEvt == null) {
                throw new DeviceException("reading " + xspath + "/event-channel(-tx/rx)");
            }
            rxEvt = txEvt;
        }
        if (!shape.separateRings()) {
            return new FrontendConfig.QueueKeys(id, tx.intValue(), rx.intValue(), txEvt.intValue(), rxEvt.intValue());
        }
        Long txRsp = scan(ctx.frontendKey(dir + "tx-" + RingShape.RSP_RING_REF));
        Long rxRsp = scan(ctx.frontendKey(dir + "rx-" + RingShape.RSP_RING_REF));
        if (txRsp == null || rxRsp == null) {
            throw new DeviceException("reading " + xspath + "/" + RingShape.RSP_RING_REF + " (separate rings)");
        }
        return new FrontendConfig.QueueKeys(id, tx.intValue(), rx.intValue(), txEvt.intValue(), rxEvt.intValue(),
                txRsp.intValue(), rxRsp.intValue());
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
