package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.hypervisor.sim.abi.SimPaths;
import io.backplane.nativeio.Errno;
import io.backplane.nativeio.MemoryMapping;
import io.backplane.nativeio.NativeException;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Grant map, grant copy and foreign mapping against sim domains. A map pins each reference
 * (Xen's checks, GTF_reading/GTF_writing set in the guest's entry) and then mmaps the granted
 * frames of the guest's memory file side by side. A copy pins for its duration and moves the
 * bytes with pread/pwrite on the memory file, crossing the kernel as GNTTABOP_copy crosses the
 * hypervisor, never through a mapping.
 */
final class SimGrants {
    private static final int PAGE = DomainConfig.PAGE_SIZE;

    private final NativeIo io;
    private final IntFunction<SimDomain> domains;

    SimGrants(NativeIo io, IntFunction<SimDomain> domains) {
        this.io = io;
        this.domains = domains;
    }

    GrantMapping map(int domid, int[] refs, boolean writable) {
        if (refs.length == 0) {
            throw new IllegalArgumentException("a grant map needs at least one grant reference");
        }
        SimDomain d = domains.apply(domid);
        if (d == null) {
            throw new GrantException(GrantStatus.BAD_DOMAIN, domid, refs[0], "could not find domain " + domid);
        }
        d.lifecycle().readLock().lock();
        try {
            if (d.isDying()) {
                throw new GrantException(GrantStatus.BAD_DOMAIN, domid, refs[0], "domain " + domid + " is being destroyed");
            }
            long[] frames = new long[refs.length];
            int pinned = 0;
            try {
                for (; pinned < refs.length; pinned++) {
                    frames[pinned] = d.grants().pin(refs[pinned], !writable, true);
                }
                MemoryMapping m = io.mapPages(d.memoryFd(), frames, writable);
                SimGrantMapping gm = new SimGrantMapping(d, m, refs);
                d.track(gm);
                return gm;
            } catch (GrantFailure f) {
                unpin(d, refs, pinned, writable);
                throw new GrantException(f.status(), domid, refs[pinned], f.getMessage());
            } catch (NativeException e) {
                unpin(d, refs, pinned, writable);
                throw new GrantException(GrantStatus.GENERAL_ERROR, domid, refs[0], "mapping the frames failed: " + e.getMessage());
            }
        } finally {
            d.lifecycle().readLock().unlock();
        }
    }

    /**
     * The batched unmap: the mappings of each domain go as one operation (one munmap per run of
     * mappings lying end to end, as consecutive maps usually do, and one pass over the domain's
     * active grants), where closing them one by one repeats all of it per mapping.
     */
    void unmap(Collection<? extends GrantMapping> mappings) {
        Map<SimDomain, List<SimGrantMapping>> byDomain = new LinkedHashMap<>();
        for (GrantMapping m : mappings) {
            if (m instanceof SimGrantMapping s) {
                byDomain.computeIfAbsent(s.domain(), d -> new ArrayList<>()).add(s);
            } else {
                m.close(); // not ours to batch
            }
        }
        byDomain.forEach(SimRegion::closeAll);
    }

    MappedRegion mapForeign(int domid, long[] frames, boolean writable) {
        return mapOfLiveDomain(domid, d -> {
            for (long f : frames) {
                if (f < 0 || f >= d.memoryPages()) {
                    throw new HypervisorException(Errno.name(Errno.EINVAL), "frame " + f + " is not domain " + domid + "'s (it has "
                            + d.memoryPages() + " pages)");
                }
            }
            return new SimRegion(d, io.mapPages(d.memoryFd(), frames, writable), frames.length);
        });
    }

    /** The domain's grant-table file, read-only: what dom0 maps of it on Xen with XENMEM_resource_grant_table. */
    MappedRegion mapGrantTable(int domid) {
        return mapOfLiveDomain(domid, d -> new SimRegion(d, d.mapGrantTableReadOnly(), d.info().grantFrames()));
    }

    /** A region of a domain that is not being destroyed, tracked so that its destruction revokes it. */
    private MappedRegion mapOfLiveDomain(int domid, Function<SimDomain, SimRegion> map) {
        SimDomain d = domains.apply(domid);
        if (d == null) {
            throw new HypervisorException(Errno.name(Errno.ESRCH), "domain " + domid + " does not exist");
        }
        d.lifecycle().readLock().lock();
        try {
            if (d.isDying()) {
                throw new HypervisorException(Errno.name(Errno.ESRCH), "domain " + domid + " is being destroyed");
            }
            SimRegion r = map.apply(d);
            d.track(r);
            return r;
        } finally {
            d.lifecycle().readLock().unlock();
        }
    }

    void copy(List<GrantCopy> ops, int[] status) {
        if (status.length < ops.size()) {
            throw new IllegalArgumentException("status array holds " + status.length + " codes for " + ops.size() + " copies");
        }
        for (int i = 0; i < ops.size(); i++) {
            status[i] = copyOne(ops.get(i)).code();
        }
    }

    private GrantStatus copyOne(GrantCopy op) {
        int len = op.length();
        GrantStatus bad = checkArgs(op.source(), len, false);
        if (bad == GrantStatus.OKAY) {
            bad = checkArgs(op.dest(), len, true);
        }
        if (bad != GrantStatus.OKAY) {
            return bad;
        }
        if (op.source() instanceof GrantCopy.Local src && op.dest() instanceof GrantCopy.Local dst) {
            ByteBuffer to = dst.buffer().duplicate();
            to.position(dst.offset());
            to.put(src.buffer().duplicate().position(src.offset()).limit(src.offset() + len));
            return GrantStatus.OKAY;
        }
        Pinned source = null;
        Pinned dest = null;
        try {
            if (op.source() instanceof GrantCopy.Foreign f) {
                source = Pinned.of(domains.apply(f.domid()), f, true);
            }
            if (op.dest() instanceof GrantCopy.Foreign f) {
                dest = Pinned.of(domains.apply(f.domid()), f, false);
            }
            transfer(op, source, dest, len);
            return GrantStatus.OKAY;
        } catch (GrantFailure f) {
            return f.status();
        } catch (NativeException e) {
            return GrantStatus.GENERAL_ERROR;
        } finally {
            if (dest != null) {
                dest.release();
            }
            if (source != null) {
                source.release();
            }
        }
    }

    private void transfer(GrantCopy op, Pinned source, Pinned dest, int len) {
        if (source != null && dest != null) {
            ByteBuffer bounce = ByteBuffer.allocateDirect(len);
            long addr = io.address(bounce);
            fully(io.pread(source.domain.memoryFd(), addr, len, source.fileOffset), len);
            fully(io.pwrite(dest.domain.memoryFd(), addr, len, dest.fileOffset), len);
        } else if (source != null) {
            GrantCopy.Local to = (GrantCopy.Local) op.dest();
            fully(io.pread(source.domain.memoryFd(), io.address(to.buffer()) + to.offset(), len, source.fileOffset), len);
        } else {
            GrantCopy.Local from = (GrantCopy.Local) op.source();
            fully(io.pwrite(dest.domain.memoryFd(), io.address(from.buffer()) + from.offset(), len, dest.fileOffset), len);
        }
    }

    private static void fully(int done, int len) {
        if (done != len) {
            throw new NativeException(5, "short grant copy: " + done + " of " + len + " bytes");
        }
    }

    /**
     * A foreign side must stay inside its page (GNTST_bad_copy_arg); a local side must be native
     * memory of this process, in range, and writable when written (what gntdev's copy ioctl
     * needs of a virtual address; GNTST_bad_virt_addr otherwise).
     */
    private static GrantStatus checkArgs(GrantCopy.Endpoint e, int len, boolean written) {
        if (e instanceof GrantCopy.Foreign f) {
            return f.offset() < 0 || f.offset() + len > PAGE ? GrantStatus.BAD_COPY_ARG : GrantStatus.OKAY;
        }
        GrantCopy.Local l = (GrantCopy.Local) e;
        ByteBuffer b = l.buffer();
        boolean ok = b != null && b.isDirect() && l.offset() >= 0 && l.offset() + len <= b.capacity()
                && !(written && b.isReadOnly());
        return ok ? GrantStatus.OKAY : GrantStatus.BAD_VIRT_ADDR;
    }

    private static void unpin(SimDomain d, int[] refs, int count, boolean writable) {
        for (int i = 0; i < count; i++) {
            d.grants().unpin(refs[i], !writable);
        }
    }

    /** A reference pinned for the span of one copy, with the domain's lifecycle read-locked. */
    private static final class Pinned {
        final SimDomain domain;
        final int ref;
        final boolean readonly;
        final long fileOffset;

        private Pinned(SimDomain domain, int ref, boolean readonly, long fileOffset) {
            this.domain = domain;
            this.ref = ref;
            this.readonly = readonly;
            this.fileOffset = fileOffset;
        }

        static Pinned of(SimDomain d, GrantCopy.Foreign f, boolean readonly) throws GrantFailure {
            if (d == null) {
                throw new GrantFailure(GrantStatus.BAD_DOMAIN, "could not find domain " + f.domid());
            }
            d.lifecycle().readLock().lock();
            try {
                if (d.isDying()) {
                    throw new GrantFailure(GrantStatus.BAD_DOMAIN, "domain " + f.domid() + " is being destroyed");
                }
                long frame = d.grants().pin(f.ref(), readonly, false);
                return new Pinned(d, f.ref(), readonly, frame * PAGE + f.offset());
            } catch (GrantFailure | RuntimeException e) {
                d.lifecycle().readLock().unlock();
                throw e;
            }
        }

        void release() {
            try {
                domain.grants().unpin(ref, readonly);
            } finally {
                domain.lifecycle().readLock().unlock();
            }
        }
    }
}
