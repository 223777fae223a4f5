package io.backplane.api.ring;

import java.nio.ByteBuffer;

/**
 * One shared ring mapped for a backend by a strategy, with the data path that goes with it.
 * The backend runs ring.h's protocol on {@link #ring()} at {@link #geometry()}'s offsets and uses
 * {@link #segments()} for the data. Closing unmaps everything the channel mapped; the backend
 * must have stopped touching the ring first.
 */
public interface RingChannel extends AutoCloseable {

    /** The strategy that opened it, as {@code pv:devices} shows it. */
    String strategy();

    /** A little-endian direct buffer over the mapped ring pages, shared with the frontend. */
    ByteBuffer ring();

    RingGeometry geometry();

    SegmentIo segments();

    /** Counters for {@code pv:show}: e.g. grant copies, maps, unmaps, persistent hits. */
    java.util.Map<String, Long> counters();

    @Override
    void close();
}
