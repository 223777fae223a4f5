package io.backplane.hypervisor.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.DomainListener;
import io.backplane.api.hypervisor.DomainState;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.hypervisor.ShutdownReason;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.guest.sim.SimGuest;
import io.backplane.hypervisor.sim.abi.SimPaths;
import io.backplane.nativeio.NativeIo;
import io.backplane.xs.client.SocketXenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A domain's life against the real XenStore: introduced with libxl's nodes and permissions, its
 * own xenstore.sock usable by the guest, and on destruction everything dom0 held on it gone
 * (checked in /proc/self/maps, the port table and the file system) and the domain released.
 */
class DomainLifecycleTest {
    @TempDir
    Path dir;
    NativeIo io = new NativeIo();
    XenStoreFixture xs;
    SimHypervisor sim;

    @BeforeEach
    void start() throws Exception {
        xs = new XenStoreFixture(dir);
        sim = SimHypervisor.start(dir, io, xs.dom0, -1);
    }

    @AfterEach
    void stop() {
        sim.close();
        xs.close();
    }

    @Test
    void createIntroducesTheDomainAndDestroyTakesEverythingBack() throws Exception {
        BlockingQueue<String> special = new LinkedBlockingQueue<>();
        xs.dom0.watch("@introduceDomain", "i", (path, token) -> special.add(path));
        xs.dom0.watch("@releaseDomain", "r", (path, token) -> special.add(path));
        special.poll(5, TimeUnit.SECONDS);
        special.poll(5, TimeUnit.SECONDS);
        BlockingQueue<Integer> destroyed = new LinkedBlockingQueue<>();
        sim.addDomainListener(new DomainListener() {
            @Override
            public void domainDestroyed(int domid) {
                destroyed.add(domid);
            }
        });

        DomainInfo info = sim.create(new DomainConfig("guest1", 256, 2));
        int domid = info.domid();
        assertThat(info.state()).isEqualTo(DomainState.RUNNING);
        assertThat(special.poll(5, TimeUnit.SECONDS)).isEqualTo("@introduceDomain");
        String dom = "/local/domain/" + domid;
        assertThat(xs.dom0.getPerms(dom)).containsExactly(XsPerm.none(0), XsPerm.read(domid));
        assertThat(xs.dom0.getPerms(dom + "/data")).containsExactly(XsPerm.none(domid));
        assertThat(xs.dom0.read(dom + "/name")).isEqualTo("guest1");
        assertThat(xs.dom0.isDomainIntroduced(domid)).isTrue();

        SimPaths paths = sim.paths();
        assertThat(mode(paths.domainsDir())).isEqualTo("rwx--x--x");
        assertThat(mode(paths.domainDir(domid))).isEqualTo("rwx------");
        assertThat(mode(paths.memory(domid))).isEqualTo("rw-------");
        assertThat(mode(paths.grantTable(domid))).isEqualTo("rw-------");
        assertThat(mode(paths.evtchnSocket(domid))).isEqualTo("rw-------");
        assertThat(Files.size(paths.memory(domid))).isEqualTo(256 * 4096L);
        assertThat(Files.size(paths.grantTable(domid))).isEqualTo(2 * 4096L);
        assertThat(paths.xenstoreSocket(domid)).exists();

        CountDownLatch guestSawDestroy = new CountDownLatch(1);
        SimGuest guest = SimGuest.attach(dir, domid, io, guestSawDestroy::countDown);
        try (SocketXenStore guestXs = guest.connectXenStore()) {
            assertThat(guestXs.read("name")).isEqualTo("guest1");
            guestXs.write("data/hello", "world");
            assertThat(xs.dom0.read(dom + "/data/hello")).isEqualTo("world");
            assertThatThrownBy(() -> guestXs.write("/local/domain/0/intrusion", "x"))
                    .isInstanceOfSatisfying(XsException.class, e -> assertThat(e.error()).isEqualTo(XsError.EACCES));
        }

        // dom0 holds a mapping and two channels on the guest when it is destroyed.
        int ports0 = sim.dom0PortsInUse();
        long guestOwn = mapsOf(paths.memory(domid)); // this in-process guest maps its memory too
        long frame = guest.memory().allocPage();
        int ref = guest.grants().grantAccess(0, frame, false);
        GrantMapping mapping = sim.map(domid, new int[] {ref}, true);
        mapping.buffer().putInt(0, 99);
        EventChannel g = guest.eventChannels().allocUnbound(0, ch -> { });
        EventChannel bound = sim.bindInterdomain(domid, g.port(), ch -> { });
        EventChannel offered = sim.allocUnbound(domid, ch -> { });
        assertThat(sim.dom0PortsInUse()).isEqualTo(ports0 + 2);
        assertThat(mapsOf(paths.memory(domid))).isEqualTo(guestOwn + 1);

        sim.destroy(domid);

        assertThat(mapsOf(paths.memory(domid))).as("no page of the guest left mapped in dom0").isEqualTo(guestOwn);
        assertThat(mapping.buffer().getInt(0)).as("a stale buffer reads zeros, it does not crash").isZero();
        mapping.close();
        assertThat(sim.dom0PortsInUse()).as("dom0's channels to the guest freed").isEqualTo(ports0);
        bound.notifyRemote();              // the remote is gone: a no-op, as on an unbound Xen port
        offered.close();
        assertThat(guestSawDestroy.await(5, TimeUnit.SECONDS)).as("guest's event channel connection dropped").isTrue();
        assertThat(paths.domainDir(domid)).doesNotExist();
        assertThat(special.poll(5, TimeUnit.SECONDS)).isEqualTo("@releaseDomain");
        assertThat(xs.dom0.exists(dom)).isFalse();
        assertThat(xs.dom0.isDomainIntroduced(domid)).isFalse();
        assertThat(sim.info(domid)).isEmpty();
        assertThat(destroyed.poll(5, TimeUnit.SECONDS)).isEqualTo(domid);
        assertThatThrownBy(() -> sim.destroy(domid))
                .isInstanceOfSatisfying(HypervisorException.class, e -> assertThat(e.errno()).isEqualTo("ESRCH"));
        guest.close();
        assertThat(mapsOf(paths.memory(domid))).isZero();
    }

    /**
     * A fresh store has only /tool: the first domains create /local/domain themselves, also when
     * several are created at once (their transactions conflict on the new parents and retry),
     * and an id reused after a destroy gets fresh nodes. No test fixture pre-creates /local/domain/0.
     */
    @Test
    void domainsAreCreatedOnAnEmptyStoreConcurrentlyAndIdsAreReused() throws Exception {
        assertThat(xs.dom0.exists("/local")).isFalse();
        List<java.util.concurrent.Future<DomainInfo>> made = new java.util.ArrayList<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            for (int i = 0; i < 4; i++) {
                String name = "fresh" + i;
                made.add(pool.submit(() -> sim.create(DomainConfig.ofMiB(name, 1))));
            }
            for (java.util.concurrent.Future<DomainInfo> f : made) {
                DomainInfo d = f.get(30, TimeUnit.SECONDS);
                assertThat(xs.dom0.read("/local/domain/" + d.domid() + "/name")).isEqualTo(d.name());
                assertThat(xs.dom0.getPerms("/local/domain/" + d.domid())).containsExactly(XsPerm.none(0), XsPerm.read(d.domid()));
            }
        } finally {
            pool.shutdown();
        }
        assertThat(xs.dom0.directory("/local/domain")).hasSize(4);
        for (DomainInfo d : sim.list()) {
            sim.destroy(d.domid());
        }
        assertThat(xs.dom0.directory("/local/domain")).isEmpty();
        DomainInfo again = sim.create(DomainConfig.ofMiB("again", 1));
        assertThat(xs.dom0.read("/local/domain/" + again.domid() + "/name")).isEqualTo("again");
        assertThat(xs.dom0.isDomainIntroduced(again.domid())).isTrue();
    }

    @Test
    void guestShutdownAndCrashReachDomainListeners() throws Exception {
        BlockingQueue<DomainInfo> shutdowns = new LinkedBlockingQueue<>();
        sim.addDomainListener(new DomainListener() {
            @Override
            public void domainShutdown(DomainInfo domain) {
                shutdowns.add(domain);
            }
        });
        int a = sim.create(DomainConfig.ofMiB("polite", 1)).domid();
        int b = sim.create(DomainConfig.ofMiB("crasher", 1)).domid();
        assertThatThrownBy(() -> sim.create(DomainConfig.ofMiB("polite", 1)))
                .isInstanceOfSatisfying(HypervisorException.class, e -> assertThat(e.errno()).isEqualTo("EEXIST"));
        try (SimGuest polite = SimGuest.attach(dir, a, io)) {
            polite.shutdown(ShutdownReason.REBOOT);
        }
        DomainInfo first = shutdowns.poll(5, TimeUnit.SECONDS);
        assertThat(first.domid()).isEqualTo(a);
        assertThat(first.shutdownReason()).isEqualTo(ShutdownReason.REBOOT);
        SimGuest crasher = SimGuest.attach(dir, b, io);
        crasher.close(); // leaves without SCHEDOP_shutdown
        DomainInfo second = shutdowns.poll(5, TimeUnit.SECONDS);
        assertThat(second.domid()).isEqualTo(b);
        assertThat(second.shutdownReason()).isEqualTo(ShutdownReason.CRASH);
        assertThat(sim.info(b).orElseThrow().state()).isEqualTo(DomainState.SHUTDOWN);
        assertThat(sim.list()).extracting(DomainInfo::domid).containsExactly(a, b);
    }

    @Test
    void domainsLeftByARuntimeThatDiedAreRemovedAtStart() throws Exception {
        int domid = sim.create(DomainConfig.ofMiB("orphan", 1)).domid();
        Path left = sim.paths().domainDir(domid);
        SimHypervisor next = SimHypervisor.start(dir.resolve("other"), io, null, -1); // unrelated state dir
        next.close();
        Files.createDirectories(dir.resolve("restart/domains/9"));
        Files.writeString(dir.resolve("restart/domains/9/memory"), "stale");
        SimHypervisor restarted = SimHypervisor.start(dir.resolve("restart"), io, null, -1);
        try {
            assertThat(dir.resolve("restart/domains/9")).doesNotExist();
            assertThat(left).as("a live sim's domains are untouched by another state dir").exists();
        } finally {
            restarted.close();
        }
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static long mapsOf(Path file) throws Exception {
        List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
        return maps.stream().filter(l -> l.contains(file.toString())).count(); // also "(deleted)" ones
    }
}
