package io.backplane.ring.grantcopy;

import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingGeometry;
import io.backplane.api.ring.SegmentIo;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/** A ring mapped once for its whole life, data by grant copy. */
final class GrantCopyChannel implements RingChannel {
    private final GrantMapping mapping;
    private final ByteBuffer ring;
    private final RingGeometry geometry;
    private final GrantCopySegments segments;
    private final AtomicBoolean closed = new AtomicBoolean();

    GrantCopyChannel(GrantMapping mapping, RingGeometry geometry, GrantCopySegments segments) {
        this.mapping = mapping;
        this.ring = mapping.buffer();
        this.geometry = geometry;
        this.segments = segments;
    }

    @Override
    public String strategy() {
        return GrantCopyStrategy.NAME;
    }

    @Override
    public ByteBuffer ring() {
        return ring;
    }

    @Override
    public RingGeometry geometry() {
        return geometry;
    }

    @Override
    public SegmentIo segments() {
        return segments;
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("ring-pages", (long) mapping.pages());
        c.putAll(segments.counters());
        return c;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            mapping.close();
        }
    }
}
