package io.backplane.blkback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.BlkifKeys;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.ring.RingShape;
import io.backplane.ring.layout.BlkifConstants;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the frontend wrote for connecting, read and checked as Linux blkback's
 * {@code connect_ring} and {@code read_per_ring_refs} (xenbus.c) do, refusing with their words:
 * an unknown protocol, more queues than offered, a ring order above the published maximum, a
 * missing event channel or ring reference.
 *
 * @param protocol      the ABI the frontend speaks ({@code x86_64-abi})
 * @param persistent    feature-persistent negotiated (offered and asked for)
 * @param ringPageOrder the ring order asked for, or -1 for a frontend that wrote no
 *                      {@code ring-page-order} (one page, {@code ring-ref})
 * @param shape         the ring layout the frontend chose of those offered (ring.h's when it wrote none)
 * @param queues        one entry per request ring, in queue order
 * @param unmapBatch    the frontend's {@code request-unmap-batch}, passed to the strategies as written
 */
record FrontendRings(String protocol, boolean persistent, int ringPageOrder, RingShape shape, List<Queue> queues,
                     Optional<String> unmapBatch) {

    /** XEN_IO_PROTO_ABI_X86_64: the only blkif ABI this backend's layouts describe. */
    static final String X86_64_ABI = BlkifConstants.XEN_IO_PROTO_ABI_X86_64;
    static final String X86_32_ABI = "x86_32-abi";

    /**
     * One ring: the frontend directory it was read from, its grant references (with separate
     * rings the request ring's, then the response ring's {@code rsp-ring-ref} pages), its port.
     */
    record Queue(String dir, int[] ringRefs, int eventChannel) {
    }

    int ringPages() {
        return ringPageOrder < 0 ? 1 : 1 << ringPageOrder;
    }

    static FrontendRings read(BackendContext ctx, VbdFeatures offer) {
        return read(ctx, offer, Map.of());
    }

    /**
     * @param expected what the connection being re-attached recorded (queues, ring order, layout:
     *                 {@code VbdDevice.decided}): every queue's keys are then read in the same round
     *                 trip as the keys that decide them, and read again only when those say otherwise;
     *                 empty: the head keys, then every queue's, two round trips
     */
    static FrontendRings read(BackendContext ctx, VbdFeatures offer, Map<String, String> expected) {
        String frontend = ctx.id().frontendPath();
        List<String> heads = new ArrayList<>(List.of(BlkifKeys.PROTOCOL, VbdFeatures.PERSISTENT,
                XenbusKeys.MULTI_QUEUE_NUM_QUEUES, XenbusKeys.RING_PAGE_ORDER, XenbusKeys.REQUEST_UNMAP_BATCH));
        heads.addAll(RingShape.KEYS);
        Geometry guess = Geometry.recorded(expected, offer);
        List<String> guessed = guess == null ? List.of() : guess.keys();
        List<String> both = new ArrayList<>(heads);
        both.addAll(guessed);
        List<Optional<String>> read = ctx.frontendKeys(both);
        List<Optional<String>> head = read.subList(0, heads.size());
        String protocol = head.get(0).orElse("");
        if (protocol.isEmpty()) {
            protocol = X86_64_ABI; // "unspecified, assuming default": the native ABI
        } else if (X86_32_ABI.equals(protocol)) {
            throw new DeviceException("fe protocol " + protocol + " is not supported (this backend speaks "
                    + X86_64_ABI + " only)");
        } else if (!X86_64_ABI.equals(protocol)) {
            throw new DeviceException("unknown fe protocol " + protocol);
        }
        boolean persistent = offer.persistent() && unsigned(head.get(1), 0,
                frontend + "/" + VbdFeatures.PERSISTENT) == 1;

        long queues = unsigned(head.get(2), 1,
                frontend + "/" + XenbusKeys.MULTI_QUEUE_NUM_QUEUES);
        if (queues > offer.maxQueues() || queues == 0) {
            throw new DeviceException("guest requested " + queues + " queues, exceeding the maximum of "
                    + offer.maxQueues() + ".");
        }

        RingShape shape;
        try {
            shape = RingShape.negotiate(offer.layouts(), k -> head.get(heads.indexOf(k)), frontend);
        } catch (IllegalArgumentException e) {
            throw new DeviceException(e.getMessage());
        }

        int order = -1;
        Optional<String> orderKey = head.get(3);
        if (orderKey.isPresent()) {
            long asked = unsigned(orderKey, 0, frontend + "/" + XenbusKeys.RING_PAGE_ORDER);
            if (asked > offer.maxRingPageOrder()) {
                // Linux reads the order with the first ring's directory at hand and names it.
                String dir = queues == 1 ? frontend : frontend + "/" + XenbusKeys.queueDir(0);
                throw new DeviceException(dir + "/request " + asked + " ring page order exceed max:" + offer.maxRingPageOrder());
            }
            order = (int) asked;
        }

        Geometry geometry = new Geometry((int) queues, order, shape);
        List<String> names = geometry.queueKeys();
        // Each queue's port and every ring reference (16 pages and more per ring): read with the
        // head when the record said what they would be, else now.
        List<Optional<String>> values = geometry.equals(guess) ? read.subList(heads.size(), read.size())
                : ctx.frontendKeys(geometry.keys());
        List<Queue> rings = new ArrayList<>();
        for (int q = 0; q < queues; q++) {
            String dir = queues == 1 ? frontend : frontend + "/" + XenbusKeys.queueDir(q);
            int at = q * names.size();
            int port = (int) required(values.get(at), dir + "/" + XenbusKeys.EVENT_CHANNEL);
            int[] refs = new int[names.size() - 1];
            for (int i = 0; i < refs.length; i++) {
                refs[i] = (int) required(values.get(at + i + 1), dir + "/" + names.get(i + 1));
            }
            rings.add(new Queue(dir, refs, port));
        }
        return new FrontendRings(protocol, persistent, order, shape, List.copyOf(rings), head.get(4));
    }

    /**
     * The rings a re-attach's record names ({@link #recordedRings}), to be mapped while the
     * frontend's keys are read: what the frontend wrote when it connected, without its ports (a
     * port is bound only once the keys confirm it). Null when the record names no rings (an older
     * record) or says something this offer does not allow.
     */
    static FrontendRings recorded(BackendContext ctx, Map<String, String> connection, VbdFeatures offer) {
        Geometry g = Geometry.recorded(connection, offer);
        if (g == null || !X86_64_ABI.equals(connection.get(BlkifKeys.PROTOCOL))) {
            return null;
        }
        String frontend = ctx.id().frontendPath();
        int refsPerRing = g.queueKeys().size() - 1;
        List<Queue> rings = new ArrayList<>();
        for (int q = 0; q < g.queues; q++) {
            String listed = connection.get(RING_REFS + q);
            String[] refs = listed == null ? new String[0] : listed.split(",");
            if (refs.length != refsPerRing) {
                return null;
            }
            int[] parsed = new int[refs.length];
            try {
                for (int i = 0; i < refs.length; i++) {
                    parsed[i] = Integer.parseUnsignedInt(refs[i]);
                }
            } catch (NumberFormatException e) {
                return null;
            }
            rings.add(new Queue(g.queues == 1 ? frontend : frontend + "/" + XenbusKeys.queueDir(q), parsed, -1));
        }
        return new FrontendRings(X86_64_ABI, "1".equals(connection.get(VbdFeatures.PERSISTENT)) && offer.persistent(),
                g.order, g.shape, List.copyOf(rings), Optional.ofNullable(connection.get(XenbusKeys.REQUEST_UNMAP_BATCH)));
    }

    /**
     * What a successor needs to map these rings before it has read the frontend's keys, for the
     * device's record: each queue's ring references ({@code ring-refs-0 = 8,9,...}) and the
     * frontend's {@code request-unmap-batch}.
     */
    Map<String, String> recordedRings() {
        Map<String, String> r = new LinkedHashMap<>();
        for (int q = 0; q < queues.size(); q++) {
            StringBuilder refs = new StringBuilder();
            for (int ref : queues.get(q).ringRefs()) {
                refs.append(refs.length() == 0 ? "" : ",").append(Integer.toUnsignedString(ref));
            }
            r.put(RING_REFS + q, refs.toString());
        }
        unmapBatch.ifPresent(v -> r.put(XenbusKeys.REQUEST_UNMAP_BATCH, v));
        return r;
    }

    /** True when {@code other} names the same rings (ports aside) with the same layout and features. */
    boolean sameRings(FrontendRings other) {
        if (!protocol.equals(other.protocol) || persistent != other.persistent || ringPageOrder != other.ringPageOrder
                || !shape.equals(other.shape) || !unmapBatch.equals(other.unmapBatch) || queues.size() != other.queues.size()) {
            return false;
        }
        for (int q = 0; q < queues.size(); q++) {
            if (!java.util.Arrays.equals(queues.get(q).ringRefs(), other.queues.get(q).ringRefs())) {
                return false;
            }
        }
        return true;
    }

    /** The record's key for queue N's ring references (a backend's own key, not the frontend's). */
    static final String RING_REFS = "ring-refs-";

    /** How many rings of how many pages in which layout: which keys the frontend wrote for them. */
    private record Geometry(int queues, int order, RingShape shape) {

        /** What a re-attach's record says, or null when it says nothing usable under {@code offer}. */
        static Geometry recorded(Map<String, String> connection, VbdFeatures offer) {
            try {
                Geometry g = new Geometry(Integer.parseInt(connection.get(BackendDevice.STATUS_QUEUES)),
                        Integer.parseInt(connection.get(BackendDevice.STATUS_RING_ORDER)),
                        RingShape.parse(connection.get(LAYOUT)));
                return g.queues >= 1 && g.queues <= offer.maxQueues() && g.order >= -1
                        && g.order <= offer.maxRingPageOrder() ? g : null;
            } catch (RuntimeException e) {
                return null;                      // absent or not numbers: the keys are read after the head
            }
        }

        /** One queue's keys, relative to its directory: the port, then every ring reference. */
        List<String> queueKeys() {
            int pages = order < 0 ? 1 : 1 << order;
            List<String> names = new ArrayList<>();
            names.add(XenbusKeys.EVENT_CHANNEL);
            for (int i = 0; i < shape.grantedPages(pages); i++) {
                String base = i < pages ? XenbusKeys.RING_REF : RingShape.RSP_RING_REF;
                names.add(order < 0 ? base : base + (i % pages));
            }
            return names;
        }

        /** Every queue's keys, relative to the frontend directory, queue after queue. */
        List<String> keys() {
            List<String> names = queueKeys();
            List<String> all = new ArrayList<>();
            for (int q = 0; q < queues; q++) {
                String rel = queues == 1 ? "" : XenbusKeys.queueDir(q) + "/";
                for (String n : names) {
                    all.add(rel + n);
                }
            }
            return all;
        }
    }

    /** The recorded connection's key for the ring layout ({@code VbdDevice.decided}). */
    static final String LAYOUT = "layout";

    private static long required(Optional<String> v, String path) {
        if (v.isEmpty()) {
            throw new DeviceException("reading " + path);
        }
        return unsigned(v, -1, path);
    }

    /** xenbus_scanf("%u"): a u32 in decimal, or {@code otherwise} when absent. */
    private static long unsigned(Optional<String> v, long otherwise, String path) {
        if (v.isEmpty()) {
            return otherwise;
        }
        try {
            long n = Long.parseLong(v.get().trim());
            if (n < 0 || n > 0xFFFF_FFFFL) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new DeviceException("reading " + path + ": '" + v.get() + "' is not an unsigned number");
        }
    }
}
