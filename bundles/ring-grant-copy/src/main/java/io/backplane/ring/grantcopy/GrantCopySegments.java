package io.backplane.ring.grantcopy;

import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.SegmentCopy;
import io.backplane.ring.LegacyRingChannel;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Segments moved by GNTTABOP_copy: a batch is one hypercall (one gntdev ioctl) whatever its
 * length, and each operation has its own GNTST status, so one bad grant fails one segment.
 * Counters are LongAdders because the ring's worker writes them while the shell reads them.
 */
final class GrantCopySegments implements LegacyRingChannel.DataPath {
    private final GrantTables grants;
    private final int domid;
    private final LongAdder copies = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder batches = new LongAdder();
    private final int[] single = new int[1];

    GrantCopySegments(GrantTables grants, int domid) {
        this.grants = grants;
        this.domid = domid;
    }

    @Override
    public int read(int gref, int offset, ByteBuffer dst, int dstOffset, int length) {
        return one(GrantCopy.fromGrant(domid, gref, offset, dst, dstOffset, length));
    }

    @Override
    public int write(ByteBuffer src, int srcOffset, int gref, int offset, int length) {
        return one(GrantCopy.toGrant(src, srcOffset, domid, gref, offset, length));
    }

    @Override
    public void copy(List<SegmentCopy> ops, int[] status) {
        if (ops.isEmpty()) {
            return;
        }
        List<GrantCopy> batch = new ArrayList<>(ops.size());
        for (SegmentCopy op : ops) {
            batch.add(op.toGuest()
                    ? GrantCopy.toGrant(op.local(), op.localOffset(), domid, op.gref(), op.offset(), op.length())
                    : GrantCopy.fromGrant(domid, op.gref(), op.offset(), op.local(), op.localOffset(), op.length()));
        }
        run(batch, status);
    }

    /** Single-segment calls share one status slot: a SegmentIo belongs to one ring's worker. */
    private int one(GrantCopy op) {
        run(List.of(op), single);
        return single[0];
    }

    private void run(List<GrantCopy> batch, int[] status) {
        grants.copy(batch, status);
        batches.increment();
        for (int i = 0; i < batch.size(); i++) {
            copies.increment();
            if (status[i] == 0) {
                bytes.add(batch.get(i).length());
            } else {
                failures.increment();
            }
        }
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("grant-copies", copies.sum());
        c.put("grant-copy-bytes", bytes.sum());
        c.put("grant-copy-failures", failures.sum());
        c.put("grant-copy-batches", batches.sum());
        return c;
    }

    /** Nothing to release: grant copies keep nothing mapped. */
    @Override
    public void close() {
    }
}
