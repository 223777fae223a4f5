package io.backplane.netback;

import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingGeometry;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.ring.SegmentIo;
import io.backplane.ring.LegacyRingLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The legacy ring.h ring with grant-copy data, straight over the hypervisor SPI: what the
 * ring-grant-copy bundle provides in the runtime, here so the driver is tested on its own.
 */
final class CopyRingStrategies implements RingStrategies {
    private final GrantTables grants;

    CopyRingStrategies(GrantTables grants) {
        this.grants = grants;
    }

    @Override
    public RingChannel open(RingRequest request) {
        return open(request, "test-grant-copy");
    }

    @Override
    public RingChannel open(RingRequest request, String strategy) {
        int[] refs = request.ringRefs();
        GrantMapping map;
        try {
            map = grants.map(request.frontendDomid(), refs, true);
        } catch (RuntimeException e) {
            throw new RingException("mapping " + request.protocol() + " ring failed: " + e.getMessage(), e);
        }
        LegacyRingLayout l = LegacyRingLayout.ofPages(refs.length, Math.max(request.requestLength(), request.responseLength()));
        RingGeometry g = new RingGeometry(l.entries(), l.bytes(), l.requestProducerOffset(), l.requestEventOffset(),
                l.responseProducerOffset(), l.responseEventOffset(), l.requestSlotsOffset(), l.requestSlotStride(),
                l.responseSlotsOffset(), l.responseSlotStride(), l.describe());
        int domid = request.frontendDomid();
        AtomicLong copies = new AtomicLong();
        SegmentIo io = new SegmentIo() {
            private final int[] status = new int[1];

            @Override
            public int read(int gref, int offset, ByteBuffer dst, int dstOffset, int length) {
                copies.incrementAndGet();
                grants.copy(List.of(GrantCopy.fromGrant(domid, gref, offset, dst, dstOffset, length)), status);
                return status[0];
            }

            @Override
            public int write(ByteBuffer src, int srcOffset, int gref, int offset, int length) {
                copies.incrementAndGet();
                grants.copy(List.of(GrantCopy.toGrant(src, srcOffset, domid, gref, offset, length)), status);
                return status[0];
            }
        };
        ByteBuffer ring = map.buffer().order(ByteOrder.LITTLE_ENDIAN);
        return new RingChannel() {
            @Override
            public String strategy() {
                return strategy;
            }

            @Override
            public ByteBuffer ring() {
                return ring;
            }

            @Override
            public RingGeometry geometry() {
                return g;
            }

            @Override
            public SegmentIo segments() {
                return io;
            }

            @Override
            public Map<String, Long> counters() {
                return Map.of("grant-copies", copies.get());
            }

            @Override
            public void close() {
                map.close();
            }
        };
    }

    @Override
    public List<String> rank(RingRequest request) {
        return List.of("test-grant-copy");
    }
}
