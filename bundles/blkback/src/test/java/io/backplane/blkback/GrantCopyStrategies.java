package io.backplane.blkback;

import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingGeometry;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategies;
import io.backplane.api.ring.SegmentIo;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The legacy strategy as the tests need it until the ring-grant-copy bundle lands: the ring
 * pages mapped once through the hypervisor's grant map, segment data moved by GNTTABOP_copy one
 * operation at a time, against the real sim hypervisor.
 */
final class GrantCopyStrategies implements RingStrategies {
    private final GrantTables grants;

    GrantCopyStrategies(GrantTables grants) {
        this.grants = grants;
    }

    @Override
    public RingChannel open(RingRequest request) {
        int[] refs = request.ringRefs();
        GrantMapping mapping = grants.map(request.frontendDomid(), refs, true);
        int bytes = refs.length * SharedRingDescriptor.XEN_PAGE_SIZE;
        int stride = SharedRingDescriptor.entryLength(request.requestLength(), request.responseLength());
        RingGeometry geometry = new RingGeometry(SharedRingDescriptor.entryCount(bytes, stride), bytes,
                SharedRingDescriptor.REQ_PROD_OFFSET, SharedRingDescriptor.REQ_EVENT_OFFSET,
                SharedRingDescriptor.RSP_PROD_OFFSET, SharedRingDescriptor.RSP_EVENT_OFFSET,
                SharedRingDescriptor.ENTRIES_OFFSET, stride, SharedRingDescriptor.ENTRIES_OFFSET, stride,
                "ring.h/" + refs.length + "p");
        return new Channel(mapping, geometry, request.frontendDomid());
    }

    @Override
    public RingChannel open(RingRequest request, String strategy) {
        return open(request);
    }

    @Override
    public List<String> rank(RingRequest request) {
        return List.of("test-grant-copy");
    }

    private final class Channel implements RingChannel, SegmentIo {
        private final GrantMapping mapping;
        private final RingGeometry geometry;
        private final int domid;
        private final ByteBuffer ring;
        private final int[] status = new int[1];
        private final AtomicLong copies = new AtomicLong();

        Channel(GrantMapping mapping, RingGeometry geometry, int domid) {
            this.mapping = mapping;
            this.geometry = geometry;
            this.domid = domid;
            this.ring = mapping.buffer();
        }

        @Override
        public String strategy() {
            return "test-grant-copy";
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
            return this;
        }

        @Override
        public Map<String, Long> counters() {
            return Map.of("grant-copies", copies.get());
        }

        @Override
        public int read(int gref, int offset, ByteBuffer dst, int dstOffset, int length) {
            return copy(GrantCopy.fromGrant(domid, gref, offset, dst, dstOffset, length));
        }

        @Override
        public int write(ByteBuffer src, int srcOffset, int gref, int offset, int length) {
            return copy(GrantCopy.toGrant(src, srcOffset, domid, gref, offset, length));
        }

        private int copy(GrantCopy op) {
            copies.incrementAndGet();
            grants.copy(List.of(op), status);
            return status[0];
        }

        @Override
        public void close() {
            mapping.close();
        }
    }
}
