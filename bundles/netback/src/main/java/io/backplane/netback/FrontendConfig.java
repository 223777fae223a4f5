package io.backplane.netback;

import io.backplane.ring.RingShape;
import java.util.List;

/**
 * What a netfront asked for, as netback's connect() and read_xenbus_vif_flags() read it.
 *
 * @param queues  one entry per queue, queue-0 first
 * @param mac     the vif's MAC from the backend's {@code mac} key (the guest's address)
 * @param creditBytes the backend's {@code rate} limit per queue, bytes per {@code creditUsecs}; 0: unlimited
 */
record FrontendConfig(List<QueueKeys> queues, String mac, boolean sg, boolean gsoTcpv4, boolean gsoTcpv6,
                      boolean ipCsum, boolean ipv6Csum, boolean rxNotify, long creditBytes, long creditUsecs,
                      RingShape shape) {

    /**
     * One queue's keys: grant references of the TX and RX ring pages and the frontend's event
     * channel ports (the same port twice when the channel is not split); with separate rings the
     * response rings' pages ({@code tx-rsp-ring-ref}, {@code rx-rsp-ring-ref}), else 0 (a
     * reserved grant reference, never a ring's).
     */
    record QueueKeys(int id, int txRingRef, int rxRingRef, int txEventChannel, int rxEventChannel,
                     int txRspRingRef, int rxRspRingRef) {
        QueueKeys(int id, int txRingRef, int rxRingRef, int txEventChannel, int rxEventChannel) {
            this(id, txRingRef, rxRingRef, txEventChannel, rxEventChannel, 0, 0);
        }

        boolean split() {
            return txEventChannel != rxEventChannel;
        }

        int[] txRingRefs(RingShape shape) {
            return shape.separateRings() ? new int[] {txRingRef, txRspRingRef} : new int[] {txRingRef};
        }

        int[] rxRingRefs(RingShape shape) {
            return shape.separateRings() ? new int[] {rxRingRef, rxRspRingRef} : new int[] {rxRingRef};
        }
    }

    FrontendConfig {
        queues = List.copyOf(queues);
    }

    /** The features the ring strategies may judge a ring by, as the frontend's keys name them. */
    java.util.Map<String, String> ringFeatures() {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>(shape.features());
        m.put(VifFeatures.SG, sg ? "1" : "0");
        m.put(VifFeatures.GSO_TCPV4, gsoTcpv4 ? "1" : "0");
        m.put(VifFeatures.GSO_TCPV6, gsoTcpv6 ? "1" : "0");
        m.put(VifFeatures.REQUEST_RX_COPY, "1");
        return m;
    }
}
