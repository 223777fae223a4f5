package io.backplane.ring;

import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingGeometry;
import io.backplane.api.ring.SegmentIo;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link RingChannel} over a {@link LegacyRingMapping} with a strategy's own data path:
 * closing ends the data path first (its mappings go), then unmaps the ring.
 */
public final class LegacyRingChannel implements RingChannel {

    /** A strategy's data path for one ring: segments, counters, and what closing releases. */
    public interface DataPath extends SegmentIo, AutoCloseable {
        /** Counters for {@code pv:show}; called from any thread. */
        Map<String, Long> counters();

        /** Releases whatever the data path still holds mapped; the ring's worker has stopped. */
        @Override
        void close();
    }

    private final String strategy;
    private final LegacyRingMapping ring;
    private final ByteBuffer buffer;
    private final DataPath data;
    private final AtomicBoolean closed = new AtomicBoolean();

    public LegacyRingChannel(String strategy, LegacyRingMapping ring, DataPath data) {
        this.strategy = strategy;
        this.ring = ring;
        this.buffer = ring.mapping().buffer();
        this.data = data;
    }

    @Override
    public String strategy() {
        return strategy;
    }

    @Override
    public ByteBuffer ring() {
        return buffer;
    }

    @Override
    public RingGeometry geometry() {
        return ring.geometry();
    }

    @Override
    public SegmentIo segments() {
        return data;
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("ring-pages", (long) ring.mapping().pages());
        c.putAll(data.counters());
        return c;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                data.close();
            } finally {
                ring.mapping().close();
            }
        }
    }
}
