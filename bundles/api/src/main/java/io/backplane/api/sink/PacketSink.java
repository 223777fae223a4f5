package io.backplane.api.sink;

import java.nio.ByteBuffer;

/**
 * The host end of one virtual interface: Ethernet frames without FCS, one call per frame.
 * {@link #transmit} may be called from several threads (one per queue); {@link #receive} from one.
 */
public interface PacketSink extends AutoCloseable {

    /** The interface name on the host, e.g. {@code vif3.0}. */
    String name();

    /** What it is, in operator words: {@code TAP vif3.0 on bridge xenbr0}, {@code in-memory (loopback)}. */
    String describe();

    /** Hands a frame the guest sent (the buffer's remaining bytes, direct) to the host side. */
    void transmit(ByteBuffer frame);

    /**
     * Waits at most {@code timeoutMillis} for a frame from the host side for the guest and reads
     * it into {@code frame} (direct, at its position). Returns its length, 0 on timeout, -1 once
     * the sink is closed.
     */
    int receive(ByteBuffer frame, int timeoutMillis);

    /** Releases the interface; a blocked {@link #receive} returns -1 soon after. Idempotent. */
    @Override
    void close();
}
