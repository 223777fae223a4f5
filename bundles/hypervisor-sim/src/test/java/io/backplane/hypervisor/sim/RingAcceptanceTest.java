package io.backplane.hypervisor.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.DomainState;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.nativeio.NativeIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance of the sim: a guest in another OS process shares a ring with dom0 through a
 * grant and an event channel, and destroying it mid-traffic leaves nothing behind in dom0.
 */
class RingAcceptanceTest {
    static final long MILLION = 1_000_000;

    @TempDir
    Path dir;
    XenStoreFixture xs;
    SimHypervisor sim;

    @BeforeEach
    void start() throws Exception {
        xs = new XenStoreFixture(dir);
        sim = SimHypervisor.start(dir, new NativeIo(), xs.dom0, -1);
    }

    @AfterEach
    void stop() {
        sim.close();
        xs.close();
    }

    /** What the toolstack does for a device: the frontend directory, writable by the guest only. */
    int createGuestWithEchoDevice(String name) {
        DomainInfo d = sim.create(new DomainConfig(name, 64, 1));
        String fe = EchoProtocol.frontendPath(d.domid());
        xs.dom0.mkdir(fe);
        xs.dom0.setPerms(fe, List.of(XsPerm.none(d.domid()), XsPerm.read(0)));
        return d.domid();
    }

    @Test
    void twoProcessesExchangeAMillionRequestsEveryResponseChecked() throws Exception {
        int domid = createGuestWithEchoDevice("echo1");
        try (EchoBackend backend = new EchoBackend(sim, sim, xs.dom0, domid);
             GuestProcess guest = GuestProcess.java(dir, EchoFrontendMain.class, dir.toString(), Integer.toString(domid),
                     Long.toString(MILLION))) {
            int exit = guest.waitFor(300);
            assertThat(exit).as(guest.output()).isZero();
            assertThat(guest.output()).contains(MILLION + " responses checked");
            assertThat(xs.dom0.read(EchoProtocol.frontendPath(domid) + "/checked")).isEqualTo(Long.toString(MILLION));
            assertThat(backend.served.get()).isEqualTo(MILLION);
            System.out.println(guest.output());
        }
        waitFor(() -> sim.info(domid).map(i -> i.state() == DomainState.SHUTDOWN).orElse(false));
        sim.destroy(domid);
        assertThat(mapsUnder(dir)).isZero();
    }

    @Test
    void destroyingAGuestMidTrafficLeavesNothingBehind() throws Exception {
        int domid = createGuestWithEchoDevice("victim");
        int ports0 = sim.dom0PortsInUse();
        EchoBackend backend = new EchoBackend(sim, sim, xs.dom0, domid);
        try (GuestProcess guest = GuestProcess.java(dir, EchoFrontendMain.class, dir.toString(), Integer.toString(domid),
                Long.toString(Long.MAX_VALUE))) {
            waitFor(() -> backend.served.get() > 50_000);
            assertThat(mapsUnder(sim.paths().memory(domid))).as("dom0 maps the ring:\n" + mapsText()).isEqualTo(1);
            assertThat(mapsUnder(sim.paths().grantTable(domid))).as("the hypervisor maps the grant table").isEqualTo(1);
            assertThat(sim.dom0PortsInUse()).isEqualTo(ports0 + 1);
            assertThat(openFilesUnder(sim.paths().domainDir(domid))).as("the hypervisor holds the memory file open")
                    .anyMatch(f -> f.endsWith("/memory"));

            sim.destroy(domid);

            // Checked right away, before the backend even noticed: the hypervisor took it all back.
            assertThat(mapsUnder(dir)).as("no page of the guest (memory, grant table) mapped in dom0:\n" + mapsText()).isZero();
            assertThat(sim.dom0PortsInUse()).as("no dom0 channel left to the guest").isEqualTo(ports0);
            assertThat(unixSocketsUnder(dir, domid)).as("no socket of the guest left").isEmpty();
            assertThat(openFilesUnder(sim.paths().domainDir(domid))).as("no file of the guest left open in dom0").isEmpty();
            assertThat(sim.paths().domainDir(domid)).doesNotExist();
            assertThat(xs.dom0.exists("/local/domain/" + domid)).isFalse();
            assertThat(guest.waitFor(30)).as("the guest learns its domain is gone: " + guest.output()).isEqualTo(3);

            waitFor(() -> !backend.isRunning());
            assertThat(backend.stopReason()).startsWith("ring impossible");
            long served = backend.served.get();
            backend.close();                    // the backend's own cleanup after the fact still works
            assertThat(served).isGreaterThan(50_000);
        }
        assertThat(mapsUnder(dir)).isZero();
    }

    static long mapsUnder(Path dir) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(dir.toString())).count();
    }

    /** dom0's open file descriptors on the domain's files (a deleted file stays alive while open). */
    static List<String> openFilesUnder(Path domainDir) throws Exception {
        List<String> open = new java.util.ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(domainDir.toString() + "/")) {
                        open.add(fd.getFileName() + " -> " + target);
                    }
                } catch (java.io.IOException e) {
                    // closed while listing
                }
            }
        }
        return open;
    }

    static String mapsText() throws Exception {
        return Files.readString(Path.of("/proc/self/maps"));
    }

    /** Listening or connected Unix sockets bound under the domain's directory (from /proc/net/unix). */
    static List<String> unixSocketsUnder(Path dir, int domid) throws Exception {
        String prefix = dir.resolve("domains").resolve(Integer.toString(domid)).toString();
        return Files.readAllLines(Path.of("/proc/net/unix")).stream().filter(l -> l.contains(prefix)).toList();
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 60 s");
            }
            Thread.sleep(10);
        }
    }
}
