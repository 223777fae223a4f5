package io.backplane.guest.netfront;

/**
 * What the guest does with a received frame: verifies test frames, answers ARP requests and ICMP
 * echo requests for its address (on the queue the request came in on).
 */
final class NetfrontStack {
    private final byte[] mac;
    private final byte[] ip;

    NetfrontStack(byte[] mac, byte[] ip) {
        this.mac = mac;
        this.ip = ip;
    }

    byte[] mac() {
        return mac.clone();
    }

    void received(NetfrontQueue queue, byte[] frame, int len) {
        QueueCounters c = queue.counters;
        if (Frames.isTestFrame(frame, len)) {
            (Frames.verifyTestFrame(frame, len) ? c.rxVerified : c.rxBad).incrementAndGet();
            return;
        }
        if (ip == null) {
            return;
        }
        byte[] reply = Frames.arpReply(frame, len, mac, ip);
        if (reply != null) {
            c.arpReplies.incrementAndGet();
            queue.enqueue(reply);
            return;
        }
        reply = Frames.icmpEchoReply(frame, len, ip);
        if (reply != null) {
            c.icmpReplies.incrementAndGet();
            queue.enqueue(reply);
        }
    }
}
