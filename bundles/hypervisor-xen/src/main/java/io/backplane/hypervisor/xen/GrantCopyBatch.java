package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.hypervisor.xen.abi.GntdevAbi.GrantCopySegment;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * One {@link io.backplane.api.hypervisor.GrantTables#copy} call as gntdev segments. gntdev fails
 * the WHOLE ioctl (EINVAL/EFAULT) for what Xen would refuse per operation (a foreign side
 * crossing its page, a bad local address, a local-to-local copy), so those are settled here
 * first, with the GNTST code GNTTABOP_copy would give; only the rest become segments, and their
 * status comes back from the kernel.
 */
final class GrantCopyBatch {
    private final ByteBuffer segments;
    /** Segment i carries operation opIndex[i]. */
    private final int[] opIndex;
    private final int count;

    private GrantCopyBatch(ByteBuffer segments, int[] opIndex, int count) {
        this.segments = segments;
        this.opIndex = opIndex;
        this.count = count;
    }

    /**
     * A thread's segment array and index, reused from one batch to the next: a netback worker
     * copies a batch per pass, and a direct buffer per batch cost more than the copy under
     * emulation. A batch prepared in it is valid until the next {@link #prepare} with it.
     */
    static final class Scratch {
        private ByteBuffer segments = ByteBuffer.allocateDirect(0);
        private int[] index = new int[0];

        private void ensure(int ops) {
            if (index.length < ops) {
                int n = Math.max(ops, 2 * index.length);
                segments = ByteBuffer.allocateDirect(n * GrantCopySegment.SIZE).order(ByteOrder.nativeOrder());
                index = new int[n];
            }
        }
    }

    /** Checks and encodes {@code ops}; operations settled here get their status now. */
    static GrantCopyBatch prepare(NativeIo io, List<GrantCopy> ops, int[] status) {
        return prepare(io, ops, status, new Scratch());
    }

    /** {@link #prepare(NativeIo, List, int[])} into {@code scratch}'s buffers. */
    static GrantCopyBatch prepare(NativeIo io, List<GrantCopy> ops, int[] status, Scratch scratch) {
        if (status.length < ops.size()) {
            throw new IllegalArgumentException("status array holds " + status.length + " codes for " + ops.size() + " copies");
        }
        scratch.ensure(Math.max(1, ops.size()));
        ByteBuffer seg = scratch.segments;
        int[] index = scratch.index;
        int n = 0;
        for (int i = 0; i < ops.size(); i++) {
            GrantCopy op = ops.get(i);
            GrantStatus bad = check(op.source(), op.length(), false);
            if (bad == GrantStatus.OKAY) {
                bad = check(op.dest(), op.length(), true);
            }
            if (bad != GrantStatus.OKAY) {
                status[i] = bad.code();
            } else if (op.source() instanceof GrantCopy.Local src && op.dest() instanceof GrantCopy.Local dst) {
                // Xen copies between two of dom0's own frames; gntdev refuses to, so we do it here.
                dst.buffer().duplicate().position(dst.offset())
                        .put(src.buffer().duplicate().limit(src.offset() + op.length()).position(src.offset()));
                status[i] = GrantStatus.OKAY.code();
            } else {
                encode(io, seg, n, op);
                index[n++] = i;
            }
        }
        return new GrantCopyBatch(seg, index, n);
    }

    /** Segments to submit. */
    int count() {
        return count;
    }

    /** The segment array (struct ioctl_gntdev_grant_copy_segment[count]). */
    ByteBuffer segments() {
        return segments;
    }

    /** Which operation segment {@code i} is. */
    int operation(int i) {
        return opIndex[i];
    }

    /** Status the kernel wrote into segment {@code i}. */
    int segmentStatus(int i) {
        return segments.getShort(i * GrantCopySegment.SIZE + GrantCopySegment.STATUS);
    }

    /** A batch of just segment {@code i}, to retry it alone. */
    GrantCopyBatch single(int i) {
        ByteBuffer one = ByteBuffer.allocateDirect(GrantCopySegment.SIZE).order(ByteOrder.nativeOrder());
        one.put(0, segments, i * GrantCopySegment.SIZE, GrantCopySegment.SIZE);
        return new GrantCopyBatch(one, new int[] {opIndex[i]}, 1);
    }

    private static void encode(NativeIo io, ByteBuffer seg, int n, GrantCopy op) {
        int base = n * GrantCopySegment.SIZE;
        int flags = 0;
        if (op.source() instanceof GrantCopy.Foreign) {
            flags |= GrantCopySegment.GNTCOPY_SOURCE_GREF;
        }
        if (op.dest() instanceof GrantCopy.Foreign) {
            flags |= GrantCopySegment.GNTCOPY_DEST_GREF;
        }
        side(io, seg, base + GrantCopySegment.SOURCE, op.source());
        side(io, seg, base + GrantCopySegment.DEST, op.dest());
        seg.putShort(base + GrantCopySegment.LEN, (short) op.length());
        seg.putShort(base + GrantCopySegment.FLAGS, (short) flags);
        seg.putShort(base + GrantCopySegment.STATUS, (short) GrantStatus.GENERAL_ERROR.code());
    }

    private static void side(NativeIo io, ByteBuffer seg, int at, GrantCopy.Endpoint e) {
        if (e instanceof GrantCopy.Foreign f) {
            seg.putInt(at + GrantCopySegment.FOREIGN_REF, f.ref());
            seg.putShort(at + GrantCopySegment.FOREIGN_OFFSET, (short) f.offset());
            seg.putShort(at + GrantCopySegment.FOREIGN_DOMID, (short) f.domid());
        } else {
            GrantCopy.Local l = (GrantCopy.Local) e;
            seg.putLong(at + GrantCopySegment.VIRT, io.address(l.buffer()) + l.offset());
        }
    }

    /**
     * GNTST_bad_copy_arg for a foreign side leaving its page or a domid beyond 16 bits' reach;
     * GNTST_bad_virt_addr for a local side that is not native memory of this process, out of
     * range, or read-only when written.
     */
    static GrantStatus check(GrantCopy.Endpoint e, int len, boolean written) {
        if (e instanceof GrantCopy.Foreign f) {
            boolean ok = f.offset() >= 0 && f.offset() + len <= DomainConfig.PAGE_SIZE
                    && f.domid() >= 0 && f.domid() <= 0xFFFF;
            return ok ? GrantStatus.OKAY : GrantStatus.BAD_COPY_ARG;
        }
        GrantCopy.Local l = (GrantCopy.Local) e;
        ByteBuffer b = l.buffer();
        boolean ok = b != null && b.isDirect() && l.offset() >= 0 && l.offset() + len <= b.capacity()
                && !(written && b.isReadOnly());
        return ok ? GrantStatus.OKAY : GrantStatus.BAD_VIRT_ADDR;
    }
}
