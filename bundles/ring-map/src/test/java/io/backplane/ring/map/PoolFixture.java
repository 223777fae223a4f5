package io.backplane.ring.map;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.guest.grantpool.GrantPoolProcess;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The real sim hypervisor with one domain whose guest process grants a pool of pages, and dom0's
 * grant tables seen through a recorder of the unmap batches (everything else goes straight to the sim).
 */
final class PoolFixture implements AutoCloseable, GrantTables {
    final Path stateDir;
    final SimHypervisor sim;
    final int domid;
    final GrantPoolProcess pool;
    /** Sizes of the unmap batches, in call order. */
    final List<Integer> unmapBatches = new ArrayList<>();

    PoolFixture(Path stateDir, int pages) throws IOException {
        this.stateDir = stateDir;
        this.sim = SimHypervisor.start(stateDir, new NativeIo(), null, -1);
        try {
            this.domid = sim.create(new DomainConfig("netfront", pages + 16, 1)).domid();
            this.pool = GrantPoolProcess.start(stateDir, domid, pages);
        } catch (IOException | RuntimeException e) {
            sim.close();
            throw e;
        }
    }

    @Override
    public GrantMapping map(int domid, int[] refs, boolean writable) {
        return sim.map(domid, refs, writable);
    }

    @Override
    public void unmap(Collection<? extends GrantMapping> mappings) {
        unmapBatches.add(mappings.size());
        sim.unmap(mappings);
    }

    @Override
    public void copy(List<GrantCopy> ops, int[] status) {
        sim.copy(ops, status);
    }

    int pinned() {
        return sim.pinnedGrants(domid);
    }

    /** dom0's mmaps of the domain's memory, as the kernel lists them. */
    long mappingsOfGuestMemory() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains(stateDir + "/domains/")).count();
    }

    @Override
    public void close() {
        pool.close();
        sim.close();
    }
}
