package io.backplane.hypervisor.xen;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.ForeignMemory;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.hypervisor.xen.abi.PrivcmdAbi;
import io.backplane.hypervisor.xen.abi.PrivcmdAbi.MmapBatchV2;
import io.backplane.nativeio.Errno;
import io.backplane.nativeio.NativeException;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@link ForeignMemory} over {@code /dev/xen/privcmd} (what xenforeignmemory_map does): mmap a
 * region of the device as large as the batch, then IOCTL_PRIVCMD_MMAPBATCH_V2 fills it with the
 * domain's frames and reports 0 or -errno per frame; the first failing frame fails the whole map.
 */
final class XenForeignMemory implements ForeignMemory, AutoCloseable {
    private final NativeIo io;
    private final int fd;

    XenForeignMemory(NativeIo io) {
        this.io = io;
        this.fd = io.open(PrivcmdAbi.DEVICE, Posix.O_RDWR, 0);
    }

    @Override
    public MappedRegion map(int domid, long[] frames, boolean writable) {
        if (frames.length == 0) {
            throw new IllegalArgumentException("no frames to map");
        }
        int n = frames.length;
        long length = (long) n * DomainConfig.PAGE_SIZE;
        int prot = writable ? Posix.PROT_READ | Posix.PROT_WRITE : Posix.PROT_READ;
        long address;
        try {
            address = io.mmap(0, length, prot, Posix.MAP_SHARED, fd, 0);
        } catch (NativeException e) {
            throw new HypervisorException(Errno.name(e.errno()), "reserving " + n + " pages on privcmd failed: " + e.getMessage(), e);
        }
        ByteBuffer arr = ByteBuffer.allocateDirect(n * PrivcmdAbi.PFN_SIZE).order(ByteOrder.nativeOrder());
        ByteBuffer err = ByteBuffer.allocateDirect(n * PrivcmdAbi.ERR_SIZE).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            arr.putLong(i * PrivcmdAbi.PFN_SIZE, frames[i]);
        }
        ByteBuffer req = ByteBuffer.allocateDirect(MmapBatchV2.SIZE).order(ByteOrder.nativeOrder());
        req.putInt(MmapBatchV2.NUM, n);
        req.putShort(MmapBatchV2.DOM, (short) domid);
        req.putLong(MmapBatchV2.ADDR, address);
        req.putLong(MmapBatchV2.ARR, io.address(arr));
        req.putLong(MmapBatchV2.ERR, io.address(err));
        try {
            io.ioctl(fd, MmapBatchV2.IOCTL, req);
        } catch (NativeException e) {
            io.munmap(address, length);
            throw new HypervisorException(Errno.name(e.errno()), "mapping " + n + " frame(s) of domain " + domid
                    + " through privcmd failed: " + e.getMessage(), e);
        }
        for (int i = 0; i < n; i++) {
            int e = err.getInt(i * PrivcmdAbi.ERR_SIZE);
            if (e != 0) {
                io.munmap(address, length);
                throw new HypervisorException(Errno.name(-e), "Xen refused frame 0x" + Long.toHexString(frames[i])
                        + " of domain " + domid + " (" + (i + 1) + " of " + n + ")");
            }
        }
        return new XenMappedRegion(io, domid, n, writable, address);
    }

    @Override
    public void close() {
        io.close(fd);
    }
}
