package io.backplane.netback;

import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.ring.RingShape;
import java.util.List;

/**
 * What a netfront asked for, as netback's connect() and read_xenbus_vif_flags() read it.
 *
 * @param queues  one entry per queue, queue-0 first
 * @param mac     the vif's MAC from the backend's {@code mac} key (the guest's address)
 * @param creditBytes the backend's {@code rate} limit per queue, bytes per {@code creditUsecs}; 0: unlimited
 * @param ringPageOrder the frontend's {@code ring-page-order}, or -1 when it wrote none (one page
 *                    per ring, {@code tx-ring-ref}/{@code rx-ring-ref}, as Linux netfront)
 * @param persistent  feature-persistent negotiated (offered and written by the frontend)
 * @param unmapBatch  the frontend's {@code request-unmap-batch} as written, null when it wrote none
 */
record FrontendConfig(List<QueueKeys> queues, String mac, boolean sg, boolean gsoTcpv4, boolean gsoTcpv6,
                      boolean ipCsum, boolean ipv6Csum, boolean rxNotify, long creditBytes, long creditUsecs,
                      int ringPageOrder, boolean persistent, RingShape shape, String unmapBatch) {

    /**
     * One queue's keys: grant references of the TX and RX ring pages, in order (with separate
     * rings the request ring's pages, then the response ring's), and the frontend's event channel
     * ports (the same port twice when the channel is not split).
     */
    record QueueKeys(int id, int[] txRingRefs, int[] rxRingRefs, int txEventChannel, int rxEventChannel) {
        boolean split() {
            return txEventChannel != rxEventChannel;
        }

        /** The refs as netback's "mapping shared-frames" message names them. */
        String describeRefs() {
            return refs(txRingRefs) + "/" + refs(rxRingRefs);
        }

        private static String refs(int[] refs) {
            StringBuilder b = new StringBuilder();
            for (int r : refs) {
                b.append(b.length() == 0 ? "" : ",").append(Integer.toUnsignedString(r));
            }
            return b.toString();
        }
    }

    /** 0 for a frontend that wrote no order. */
    int ringOrder() {
        return Math.max(0, ringPageOrder);
    }

    FrontendConfig {
        queues = List.copyOf(queues);
    }

    /** The features the ring strategies may judge a ring by, as the frontend's keys name them. */
    java.util.Map<String, String> ringFeatures() {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>(shape.features());
        m.put(NetifKeys.FEATURE_SG, sg ? "1" : "0");
        m.put(NetifKeys.FEATURE_GSO_TCPV4, gsoTcpv4 ? "1" : "0");
        m.put(NetifKeys.FEATURE_GSO_TCPV6, gsoTcpv6 ? "1" : "0");
        m.put(NetifKeys.REQUEST_RX_COPY, "1");
        m.put(XenbusKeys.RING_PAGE_ORDER, Integer.toString(ringOrder()));
        m.put(VifFeatures.PERSISTENT, persistent ? "1" : "0");
        if (unmapBatch != null) {
            m.put(XenbusKeys.REQUEST_UNMAP_BATCH, unmapBatch); // judged by the strategy that serves it
        }
        return m;
    }
}
