package io.backplane.netback;

import java.util.List;

/**
 * What a netfront asked for, as netback's connect() and read_xenbus_vif_flags() read it.
 *
 * @param queues  one entry per queue, queue-0 first
 * @param mac     the vif's MAC from the backend's {@code mac} key (the guest's address)
 * @param creditBytes the backend's {@code rate} limit per queue, bytes per {@code creditUsecs}; 0: unlimited
 */
record FrontendConfig(List<QueueKeys> queues, String mac, boolean sg, boolean gsoTcpv4, boolean gsoTcpv6,
                      boolean ipCsum, boolean ipv6Csum, boolean rxNotify, long creditBytes, long creditUsecs) {

    /**
     * One queue's keys: grant references of the TX and RX ring pages and the frontend's event
     * channel ports (the same port twice when the channel is not split).
     */
    record QueueKeys(int id, int txRingRef, int rxRingRef, int txEventChannel, int rxEventChannel) {
        boolean split() {
            return txEventChannel != rxEventChannel;
        }
    }

    FrontendConfig {
        queues = List.copyOf(queues);
    }

    /** The features the ring strategies may judge a ring by, as the frontend's keys name them. */
    java.util.Map<String, String> ringFeatures() {
        return java.util.Map.of(VifFeatures.SG, sg ? "1" : "0",
                VifFeatures.GSO_TCPV4, gsoTcpv4 ? "1" : "0",
                VifFeatures.GSO_TCPV6, gsoTcpv6 ? "1" : "0",
                VifFeatures.REQUEST_RX_COPY, "1");
    }
}
