package io.backplane.ring.wholememory;

import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.ring.LegacyRingChannel;
import io.backplane.ring.SegmentBounds;
import io.backplane.ring.layout.GrantEntryV1Descriptor;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * One ring's segments reached through the guest's whole memory: each grant reference is looked
 * up in the guest's grant table (mapped read-only) and checked as GNTTABOP_copy checks it, then
 * the frame is read or written in place. A refused entry gets Xen's GNTST code, nothing touched.
 * Used by the ring's worker only; counters from any thread.
 */
final class WholeMemorySegments implements LegacyRingChannel.DataPath {
    private static final int PAGE = SharedRingDescriptor.XEN_PAGE_SIZE;
    /** Entry fields as the guest writes them, little-endian (x86). */
    private static final VarHandle U16 = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int BACKEND_DOMID = 0;

    private final MappedRegion all;
    private final MappedRegion tableRegion;
    private final ByteBuffer memory;
    private final ByteBuffer table;
    private final long pages;
    private final int entries;
    private final LongAdder segments = new LongAdder();
    private final LongAdder refused = new LongAdder();

    WholeMemorySegments(MappedRegion all, MappedRegion table) {
        this.all = all;
        this.tableRegion = table;
        this.memory = all.buffer();
        this.table = table.buffer();
        this.pages = all.pages();
        this.entries = this.table.capacity() / GrantEntryV1Descriptor.LENGTH;
    }

    /**
     * The checked entry's frame, or a negative GNTST code. The guest writes frame and domid
     * before the flags (gnttab_grant_foreign_access_ref: wmb between them), so the flags are read
     * first with acquire (the rmb that pairs with it), then the rest.
     */
    private long frame(int gref, boolean write) {
        if (gref < 0 || gref >= entries) {
            return GrantStatus.BAD_GNTREF.code();
        }
        int at = gref * GrantEntryV1Descriptor.LENGTH;
        int flags = Short.toUnsignedInt((short) U16.getAcquire(table, at + GrantEntryV1Descriptor.FLAGS_OFFSET));
        int grantee = Short.toUnsignedInt(table.getShort(at + GrantEntryV1Descriptor.DOMID_OFFSET));
        long frame = Integer.toUnsignedLong(table.getInt(at + GrantEntryV1Descriptor.FRAME_OFFSET));
        if ((flags & GrantEntryV1Descriptor.GTF_TYPE_MASK) != GrantEntryV1Descriptor.GTF_PERMIT_ACCESS
                || grantee != BACKEND_DOMID || (write && (flags & GrantEntryV1Descriptor.GTF_READONLY) != 0)) {
            return GrantStatus.GENERAL_ERROR.code();
        }
        if (frame >= pages) {
            return GrantStatus.BAD_PAGE.code();
        }
        return frame;
    }

    @Override
    public int read(int gref, int offset, ByteBuffer dst, int dstOffset, int length) {
        int bad = SegmentBounds.check(offset, length, dst, dstOffset, true);
        if (bad != 0) {
            return bad;
        }
        long frame = frame(gref, false);
        if (frame < 0) {
            refused.increment();
            return (int) frame;
        }
        // Plain reads: the frontend's data came before req_prod, read with acquire (ring.h's rmb).
        dst.put(dstOffset, memory, Math.toIntExact(frame * PAGE + offset), length);
        segments.increment();
        return 0;
    }

    @Override
    public int write(ByteBuffer src, int srcOffset, int gref, int offset, int length) {
        int bad = SegmentBounds.check(offset, length, src, srcOffset, false);
        if (bad != 0) {
            return bad;
        }
        long frame = frame(gref, true);
        if (frame < 0) {
            refused.increment();
            return (int) frame;
        }
        // Plain writes, ordered for the frontend by the release store of rsp_prod (ring.h's wmb).
        memory.put(Math.toIntExact(frame * PAGE + offset), src, srcOffset, length);
        segments.increment();
        return 0;
    }

    /** The checked frame in place; null for a refused entry (the caller's copy then reports its GNTST code). */
    @Override
    public ByteBuffer direct(int gref, int offset, int length, boolean toGuest) {
        if (offset < 0 || length <= 0 || offset + length > PAGE) {
            return null;
        }
        long frame = frame(gref, toGuest);
        if (frame < 0) {
            return null;
        }
        segments.increment();
        return memory.slice(Math.toIntExact(frame * PAGE + offset), length);
    }

    @Override
    public void close() {
        try {
            all.close();
        } finally {
            tableRegion.close();
        }
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("whole-memory-pages", pages);
        c.put("whole-memory-segments", segments.sum());
        c.put("whole-memory-refusals", refused.sum());
        return c;
    }
}
