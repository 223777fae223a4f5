package io.backplane.guest.grantpool;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/**
 * The sim hypervisor in a state directory with one domain whose {@link GrantPoolMain} guest
 * process grants a pool of pages: the world the ring-strategy tests and {@code bench grants} run
 * in. {@link #grants()} is dom0's grant tables as a strategy sees them, going straight to the sim
 * but recording the size of every unmap batch, so tests can see that unmaps were batched.
 */
public final class GrantPoolSim implements AutoCloseable {
    private final Path stateDir;
    private final SimHypervisor sim;
    private final int domid;
    private final GrantPoolProcess pool;
    private final List<Integer> unmapBatches = Collections.synchronizedList(new ArrayList<>());
    private final GrantTables grants = new GrantTables() {
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
    };

    private GrantPoolSim(Path stateDir, SimHypervisor sim, int domid, GrantPoolProcess pool) {
        this.stateDir = stateDir;
        this.sim = sim;
        this.domid = domid;
        this.pool = pool;
    }

    /** Starts the sim in {@code stateDir}, a domain with room for {@code pages}, and its grant pool guest. */
    public static GrantPoolSim start(Path stateDir, int pages) throws IOException {
        SimHypervisor sim = SimHypervisor.start(stateDir, new NativeIo(), null, -1);
        try {
            int grantFrames = (pages + 16) * 8 / 4096 + 1; // 8-byte v1 entries: the pool, ring, read-only and reserved refs
            int domid = sim.create(new DomainConfig("grant-pool", pages + 32, grantFrames)).domid();
            return new GrantPoolSim(stateDir, sim, domid, GrantPoolProcess.start(stateDir, domid, pages));
        } catch (IOException | RuntimeException e) {
            sim.close();
            throw e;
        }
    }

    public SimHypervisor sim() {
        return sim;
    }

    public int domid() {
        return domid;
    }

    public GrantPoolProcess pool() {
        return pool;
    }

    /** dom0's grant tables, recording unmap batches. */
    public GrantTables grants() {
        return grants;
    }

    /** The sizes of the unmap batches made through {@link #grants()}, in call order. */
    public List<Integer> unmapBatches() {
        synchronized (unmapBatches) {
            return List.copyOf(unmapBatches);
        }
    }

    /** Grant references of the domain dom0 has pinned (mapped) now. */
    public int pinned() {
        return sim.pinnedGrants(domid);
    }

    /** dom0's mmaps of the domain's memory, as the kernel lists them in /proc/self/maps. */
    public long mappingsOfGuestMemory() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains(stateDir + "/domains/")).count();
    }

    /** Stops the guest (it powers its domain off), then the sim. */
    @Override
    public void close() {
        try {
            pool.close();
        } finally {
            sim.close();
        }
    }
}
