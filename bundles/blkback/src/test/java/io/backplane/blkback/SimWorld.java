package io.backplane.blkback;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.ring.RingStrategy;
import io.backplane.ring.map.MapBatchedUnmapStrategy;
import io.backplane.ring.persistent.PersistentLimits;
import io.backplane.ring.persistent.PersistentStrategy;
import io.backplane.backend.RingStrategyRegistry;
import io.backplane.ring.grantcopy.GrantCopyStrategy;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.wire.XenStoreDaemon;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * dom0 of a test: the real XenStore (store, xs_wire daemon with per-domain sockets, dom0's
 * in-process connection) and the sim hypervisor, in a temporary state directory.
 */
final class SimWorld implements AutoCloseable {
    final Path stateDir;
    final NativeIo io;
    final Store store;
    final XenStoreDaemon daemon;
    final EmbeddedXenStore xs;
    final SimHypervisor sim;
    private VbdBus vbds;
    /** Set before the first vbd: register persistent and map-batched-unmap beside grant-copy. */
    boolean allStrategies;
    /** With {@link #allStrategies}: zero-copy too, ranked first (as its configured service.ranking makes it). */
    boolean zeroCopyFirst;
    /** Domains the whole-memory strategy may serve (registered when not empty). */
    String[] wholeMemoryTrusted = {};
    /** The registry blkback got, once the first vbd was attached. */
    RingStrategyRegistry strategies;

    SimWorld(Path stateDir, NativeIo io) throws IOException {
        this.stateDir = stateDir;
        this.io = io;
        this.store = new Store(Quotas.XEN_4_17);
        this.daemon = new XenStoreDaemon(store, stateDir, OperatorLog.stderrWarnings("xenstored"));
        daemon.start();
        this.xs = new EmbeddedXenStore(store);
        // dom0's home, as xenstored's start-up (xenstore-write of domain 0's name) leaves it.
        xs.write("/local/domain/0/name", "Domain-0");
        this.sim = SimHypervisor.start(stateDir, io, xs, -1);
    }

    /**
     * blkback as DS wires it in the runtime: libc, the ring-strategy registry of backend-core
     * with the grant-copy strategy bundle's strategy, and the hypervisor's event channels.
     */
    BlkbackDriver blkback() {
        strategies = new RingStrategyRegistry();
        strategies.addStrategy(new GrantCopyStrategy(sim), Map.of(RingStrategy.NAME, GrantCopyStrategy.NAME,
                "service.ranking", -100, "service.id", 1L));
        if (allStrategies) {
            strategies.addStrategy(new PersistentStrategy(sim, PersistentLimits.DEFAULTS), Map.of(RingStrategy.NAME,
                    "persistent", "service.id", 2L));
            strategies.addStrategy(new MapBatchedUnmapStrategy(sim), Map.of(RingStrategy.NAME, "map-batched-unmap",
                    "service.ranking", -200, "service.id", 3L));
            if (wholeMemoryTrusted.length > 0) {
                strategies.addStrategy(new io.backplane.ring.wholememory.WholeMemoryStrategy(sim, sim, sim, wholeMemoryTrusted),
                        Map.of(RingStrategy.NAME, "whole-memory", "service.id", 5L));
            }
            if (zeroCopyFirst) {
                strategies.addStrategy(new io.backplane.ring.zerocopy.ZeroCopyStrategy(sim, 4096), Map.of(RingStrategy.NAME,
                        "zero-copy", "service.ranking", 10, "service.id", 4L));
            }
        }
        return new BlkbackDriver(io, strategies, sim);
    }

    /**
     * A vbd served by backend-core's lifecycle with blkback: created as libxl does, with
     * {@code published} in the backend directory for the frontend, while the backend holds the
     * device to {@code offer}.
     */
    VbdHarness attachVbd(int domid, int devid, Map<String, String> backendKeys, Map<String, String> published,
                         Map<String, String> offer) {
        if (vbds == null) {
            vbds = new VbdBus(xs, blkback());
        }
        VbdHarness vbd = new VbdHarness(xs, vbds, domid, devid);
        vbds.expect(vbd, offer);
        createVbd(domid, devid, backendKeys, published);
        return vbd;
    }

    VbdHarness attachVbd(int domid, int devid, Map<String, String> backendKeys, Map<String, String> offer) {
        return attachVbd(domid, devid, backendKeys, offer, offer);
    }

    VbdBus bus() {
        return vbds;
    }

    int createDomain(String name, long pages) {
        return sim.create(new DomainConfig(name, pages, 4)).domid();
    }

    /**
     * Creates a vbd as libxl does (backend and frontend directories, their keys and permissions,
     * one transaction), plus the offer the negotiation policy publishes in the backend directory.
     */
    void createVbd(int domid, int devid, Map<String, String> backendKeys, Map<String, String> offer) {
        String be = "/local/domain/0/backend/vbd/" + domid + "/" + devid;
        String fe = "/local/domain/" + domid + "/device/vbd/" + devid;
        xs.transaction(tx -> {
            tx.mkdir(be);
            tx.setPerms(be, List.of(XsPerm.none(0), XsPerm.read(domid)));
            tx.write(be + "/frontend", fe);
            tx.write(be + "/frontend-id", Integer.toString(domid));
            tx.write(be + "/online", "1");
            tx.write(be + "/removable", "0");
            tx.write(be + "/bootable", "1");
            tx.write(be + "/type", "phy");
            tx.write(be + "/device-type", "disk");
            tx.write(be + "/discard-enable", "1");
            backendKeys.forEach((k, v) -> tx.write(be + "/" + k, v));
            offer.forEach((k, v) -> tx.write(be + "/" + k, v));
            tx.write(be + "/state", "1");
            tx.mkdir(fe);
            tx.setPerms(fe, List.of(XsPerm.none(domid), XsPerm.read(0)));
            tx.write(fe + "/backend", be);
            tx.write(fe + "/backend-id", "0");
            tx.write(fe + "/virtual-device", Integer.toString(devid));
            tx.write(fe + "/device-type", "disk");
            tx.write(fe + "/state", "1");
            return null;
        });
    }

    @Override
    public void close() {
        if (vbds != null) {
            vbds.close();
        }
        sim.close();
        xs.close();
        daemon.close();
    }
}
