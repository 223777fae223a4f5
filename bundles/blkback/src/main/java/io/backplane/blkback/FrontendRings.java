package io.backplane.blkback;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.BlkifKeys;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.ring.RingShape;
import io.backplane.ring.layout.BlkifConstants;
import java.util.ArrayList;
import java.util.List;
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
        String frontend = ctx.id().frontendPath();
        // The keys that decide the rest, the ring shape's among them, in one round trip; then every
        // queue's port and ring references in a second (a re-attach reads them in the guest's pause).
        List<String> headKeys = new ArrayList<>(List.of(BlkifKeys.PROTOCOL, VbdFeatures.PERSISTENT,
                XenbusKeys.MULTI_QUEUE_NUM_QUEUES, XenbusKeys.RING_PAGE_ORDER, XenbusKeys.REQUEST_UNMAP_BATCH));
        int shapeAt = headKeys.size();
        headKeys.addAll(RingShape.KEYS);
        List<Optional<String>> head = ctx.frontendKeys(headKeys);
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
            shape = RingShape.negotiate(offer.layouts(), k -> head.get(shapeAt + RingShape.KEYS.indexOf(k)), frontend);
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

        int pages = order < 0 ? 1 : 1 << order;
        List<String> names = new ArrayList<>();
        names.add(XenbusKeys.EVENT_CHANNEL);
        for (int i = 0; i < shape.grantedPages(pages); i++) {
            String base = i < pages ? XenbusKeys.RING_REF : RingShape.RSP_RING_REF;
            names.add(order < 0 ? base : base + (i % pages));
        }
        List<String> all = new ArrayList<>();
        for (int q = 0; q < queues; q++) {
            String rel = queues == 1 ? "" : XenbusKeys.queueDir(q) + "/";
            for (String n : names) {
                all.add(rel + n);
            }
        }
        List<Optional<String>> values = ctx.frontendKeys(all);
        List<Queue> rings = new ArrayList<>();
        for (int q = 0; q < queues; q++) {
            String dir = queues == 1 ? frontend : frontend + "/" + XenbusKeys.queueDir(q);
            List<Optional<String>> mine = values.subList(q * names.size(), (q + 1) * names.size());
            int port = (int) required(mine.get(0), dir + "/" + XenbusKeys.EVENT_CHANNEL);
            int[] refs = new int[names.size() - 1];
            for (int i = 0; i < refs.length; i++) {
                refs[i] = (int) required(mine.get(i + 1), dir + "/" + names.get(i + 1));
            }
            rings.add(new Queue(dir, refs, port));
        }
        return new FrontendRings(protocol, persistent, order, shape, List.copyOf(rings), head.get(4));
    }

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
