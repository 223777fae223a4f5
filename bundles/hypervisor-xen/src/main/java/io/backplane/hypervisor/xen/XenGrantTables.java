package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.hypervisor.xen.abi.GntdevAbi;
import io.backplane.hypervisor.xen.abi.GntdevAbi.GrantRef;
import io.backplane.hypervisor.xen.abi.GntdevAbi.MapGrantRef;
import io.backplane.hypervisor.xen.abi.GntdevAbi.UnmapGrantRef;
import io.backplane.nativeio.Errno;
import io.backplane.nativeio.NativeException;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * {@link GrantTables} over one open {@code /dev/xen/gntdev} (what libxengnttab does).
 *
 * <p>Mapping is IOCTL_GNTDEV_MAP_GRANT_REF (which only reserves an index) and an mmap of the
 * whole batch at that index, where gntdev issues GNTTABOP_map_grant_ref. When Xen refuses a
 * reference, mmap fails with a bare EINVAL and the GNTST code is lost; to still report it as the
 * SPI asks, the refused reference is found by mapping the references one by one, and its code
 * learnt with a one-byte GNTTABOP_copy from it (Xen runs the same checks on the entry for both).
 * A reference that can be read but not mapped writable is a read-only grant: GNTST_general_error,
 * as Xen gives for that.
 */
final class XenGrantTables implements GrantTables, AutoCloseable {
    private final NativeIo io;
    private final int fd;
    /** Each ring worker's copy buffers, reused (see {@link GrantCopyBatch.Scratch}). */
    private final ThreadLocal<GrantCopyBatch.Scratch> copyScratch = ThreadLocal.withInitial(GrantCopyBatch.Scratch::new);
    private final ThreadLocal<ByteBuffer> copyRequest = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(GntdevAbi.GrantCopy.SIZE).order(ByteOrder.nativeOrder()));

    XenGrantTables(NativeIo io) {
        this.io = io;
        this.fd = io.open(GntdevAbi.DEVICE, Posix.O_RDWR, 0);
    }

    @Override
    public GrantMapping map(int domid, int[] refs, boolean writable) {
        if (refs.length == 0) {
            throw new IllegalArgumentException("no grant references to map");
        }
        try {
            return mapBatch(domid, refs.clone(), writable);
        } catch (NativeException e) {
            throw refusal(domid, refs, writable, e);
        }
    }

    private XenGrantMapping mapBatch(int domid, int[] refs, boolean writable) {
        ByteBuffer req = ByteBuffer.allocateDirect(MapGrantRef.length(refs.length)).order(ByteOrder.nativeOrder());
        req.putInt(MapGrantRef.COUNT, refs.length);
        for (int i = 0; i < refs.length; i++) {
            int at = MapGrantRef.REFS + i * GrantRef.SIZE;
            req.putInt(at + GrantRef.DOMID, domid);
            req.putInt(at + GrantRef.REF, refs[i]);
        }
        io.ioctl(fd, MapGrantRef.IOCTL, req);
        long index = req.getLong(MapGrantRef.INDEX);
        int prot = writable ? Posix.PROT_READ | Posix.PROT_WRITE : Posix.PROT_READ;
        long address;
        try {
            address = io.mmap(0, (long) refs.length * DomainConfig.PAGE_SIZE, prot, Posix.MAP_SHARED, fd, index);
        } catch (NativeException e) {
            releaseIndex(index, refs.length);
            throw e;
        }
        return new XenGrantMapping(this, io, domid, refs, writable, index, address);
    }

    /** IOCTL_GNTDEV_UNMAP_GRANT_REF of a batch whose pages are no longer mmapped. */
    void releaseIndex(long index, int count) {
        ByteBuffer req = ByteBuffer.allocateDirect(UnmapGrantRef.SIZE).order(ByteOrder.nativeOrder());
        req.putLong(UnmapGrantRef.INDEX, index);
        req.putInt(UnmapGrantRef.COUNT, count);
        io.ioctl(fd, UnmapGrantRef.IOCTL, req);
    }

    /**
     * The batched unmap. gntdev has no call that releases several maps' indexes at once (UNMAP_GRANT_REF
     * takes one map's index and count, after its pages are munmapped), so what is batched is
     * the munmap: one call per run of mappings lying end to end, where gntdev's notifier unmaps
     * each map's grants and the kernel flushes the TLB once for the run; then each index is
     * released. Only a batch mapped as one region ({@link #map} with several refs) is one munmap
     * and one UNMAP_GRANT_REF whatever the addresses.
     */
    @Override
    public void unmap(Collection<? extends GrantMapping> mappings) {
        List<XenGrantMapping> ours = new ArrayList<>(mappings.size());
        for (GrantMapping m : mappings) {
            if (m instanceof XenGrantMapping x && x.owner() == this) {
                if (x.markClosed()) {
                    ours.add(x);
                }
            } else {
                m.close();
            }
        }
        long[] addresses = new long[ours.size()];
        long[] lengths = new long[ours.size()];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = ours.get(i).address();
            lengths[i] = ours.get(i).length();
        }
        NativeException failed = null;
        try {
            io.munmapRuns(addresses, lengths);
        } catch (NativeException e) {
            failed = e;
        }
        for (XenGrantMapping m : ours) {
            try {
                m.releaseIndex(); // after its pages are gone, as gntdev.h requires
            } catch (NativeException e) {
                failed = e;
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    /** Names the first refused reference and its GNTST code (see the class comment). */
    private GrantException refusal(int domid, int[] refs, boolean writable, NativeException cause) {
        String how = "gntdev refused to map " + refs.length + " grant(s): " + cause.getMessage();
        if (cause.errno() != Errno.EINVAL || refs.length == 0) {
            // Not Xen refusing a reference: gntdev's own limits (ENOMEM, ENOSPC for too many grants).
            GrantStatus status = cause.errno() == Errno.ENOMEM || cause.errno() == Errno.ENOSPC
                    ? GrantStatus.NO_SPACE : GrantStatus.GENERAL_ERROR;
            return new GrantException(status, domid, refs[0], how);
        }
        for (int ref : refs) {
            try {
                mapBatch(domid, new int[] {ref}, writable).close();
            } catch (NativeException e) {
                GrantStatus status = probeRead(domid, ref);
                if (status == GrantStatus.OKAY) {
                    status = GrantStatus.GENERAL_ERROR;
                    how += " (readable but not mappable" + (writable ? " writable: a read-only grant" : "") + ")";
                }
                return new GrantException(status, domid, ref, how);
            }
        }
        // Every reference maps on its own: the batch failed for a reason that has gone (a race).
        return new GrantException(GrantStatus.GENERAL_ERROR, domid, refs[0], how);
    }

    /** GNTST code of a one-byte copy out of the granted page. */
    private GrantStatus probeRead(int domid, int ref) {
        int[] status = new int[1];
        copy(List.of(GrantCopy.fromGrant(domid, ref, 0, ByteBuffer.allocateDirect(1), 0, 1)), status);
        return GrantStatus.fromCode(status[0]);
    }

    @Override
    public void copy(List<GrantCopy> ops, int[] status) {
        GrantCopyBatch batch = GrantCopyBatch.prepare(io, ops, status, copyScratch.get());
        if (batch.count() == 0) {
            return;
        }
        try {
            submit(batch);
        } catch (NativeException whole) {
            // gntdev failed the ioctl for one segment (e.g. EFAULT on a local page it could not
            // pin): retry each alone so the others still get done and their own status.
            for (int i = 0; i < batch.count(); i++) {
                GrantCopyBatch one = batch.single(i);
                try {
                    submit(one);
                    status[one.operation(0)] = one.segmentStatus(0);
                } catch (NativeException e) {
                    status[one.operation(0)] = (e.errno() == Errno.EFAULT ? GrantStatus.BAD_VIRT_ADDR
                            : e.errno() == Errno.EINVAL ? GrantStatus.BAD_COPY_ARG : GrantStatus.GENERAL_ERROR).code();
                }
            }
            return;
        }
        for (int i = 0; i < batch.count(); i++) {
            status[batch.operation(i)] = batch.segmentStatus(i);
        }
    }

    private void submit(GrantCopyBatch batch) {
        ByteBuffer req = copyRequest.get();
        req.putInt(GntdevAbi.GrantCopy.COUNT, batch.count());
        req.putLong(GntdevAbi.GrantCopy.SEGMENTS, io.address(batch.segments()));
        io.ioctl(fd, GntdevAbi.GrantCopy.IOCTL, req);
    }

    /** Closes the device; gntdev unmaps whatever is still mapped when its last user goes. */
    @Override
    public void close() {
        io.close(fd);
    }
}
