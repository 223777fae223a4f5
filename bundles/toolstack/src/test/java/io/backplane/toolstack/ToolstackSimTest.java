package io.backplane.toolstack;

import io.backplane.api.device.DeviceId;
import io.backplane.api.log.OperatorLog;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import io.backplane.toolstack.config.XlConfigParser;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * xl create and destroy with the simulated hypervisor and the real guest program: the domain is
 * made by the hypervisor SPI, the guest runs as its own OS process, and a failure rolls back both.
 */
class ToolstackSimTest {

    @TempDir
    Path dir;

    private Store store;
    private EmbeddedXenStore xs;
    private SimHypervisor sim;
    private final List<String> notices = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        store = new Store(Quotas.XEN_4_17);
        xs = new EmbeddedXenStore(store);
        sim = SimHypervisor.start(dir.resolve("state"), new NativeIo(), xs, -1);
        Files.write(dir.resolve("root.img"), new byte[1 << 16]);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (lifecycle != null) {
            lifecycle.close();
            launcher.stopAll();
        }
        sim.close();
        xs.close();
    }

    private GuestLauncher launcher;
    private DomainLifecycle lifecycle;
    private final List<String> lifecycleLog = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Toolstack toolstack(String guestCommand) {
        // As ToolstackService wires them: the launcher reports guest exits, the lifecycle hears the hypervisor.
        DomainLifecycle[] l = new DomainLifecycle[1];
        launcher = new GuestLauncher(guestCommand, dir.resolve("state"), (domid, status) -> l[0].guestExited(domid, status));
        Toolstack t = new Toolstack(xs, new HypervisorDomainBuilder(sim), launcher,
                (type, name) -> name, RandomGenerator.of("L64X128MixRandom"), Duration.ofSeconds(1),
                OperatorLog.lines(notices::add));
        t.initDom0();
        lifecycle = new DomainLifecycle(t, sim::info, OperatorLog.lines(lifecycleLog::add));
        l[0] = lifecycle;
        sim.addDomainListener(lifecycle);
        return t;
    }

    private static Path guestJar() throws IOException {
        Path target = Path.of("../guest/target").toAbsolutePath().normalize();
        try (var s = Files.list(target)) {
            return s.filter(p -> p.getFileName().toString().endsWith("-runnable.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("build bundles/guest first: no runnable jar in " + target));
        }
    }

    private static final String CFG = """
            name = "simguest"
            memory = 64
            vif = [ "bridge=br0,queues=2" ]
            disk = [ "root.img,xvda,w" ]
            """;

    @Test
    void createStartsTheGuestProcessAndDestroyEndsEverything() throws Exception {
        Toolstack t = toolstack("{java} -jar " + guestJar() + " --state-dir {state} --domid {domid}");
        Toolstack.Created c = t.create(XlConfigParser.parse("sim.cfg", CFG, dir), null);
        int domid = c.domid();
        assertThat(c.guestPid()).isPositive();
        assertThat(sim.info(domid)).isPresent();
        // the hypervisor's home, our build_post part and devices
        assertThat(xs.read("/local/domain/" + domid + "/name")).isEqualTo("simguest");
        assertThat(xs.read("/local/domain/" + domid + "/memory/target")).isEqualTo("65536");
        assertThat(xs.read(new DeviceId(0, "vif", domid, 0).backendPath() + "/request-multi-queue-max-queues"))
                .isEqualTo("2");
        assertThat(xs.isDomainIntroduced(domid)).isTrue();

        Path log = dir.resolve("state/guests/simguest.log");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!(Files.exists(log) && Files.readString(log).contains("attached")) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(Files.readString(log)).contains("domain " + domid + ": attached");
        assertThat(t.list()).filteredOn(d -> d.domid() == domid).singleElement()
                .satisfies(d -> assertThat(d.guestRunning()).isTrue());

        t.destroy("simguest");
        assertThat(ProcessHandle.of(c.guestPid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(sim.info(domid)).isEmpty();
        assertThat(xs.exists("/local/domain/" + domid)).isFalse();
        assertThat(xs.exists("/local/domain/0/backend/vif/" + domid)).isFalse();
        assertThat(xs.isDomainIntroduced(domid)).isFalse();
    }

    @Test
    void aGuestThatCannotStartRollsBackTheDomain() {
        Toolstack t = toolstack("/nonexistent/guest {domid}");
        assertThatThrownBy(() -> t.create(XlConfigParser.parse("sim.cfg", CFG, dir), null))
                .hasMessageStartingWith("cannot start the guest of domain simguest (/nonexistent/guest 1)");
        assertThat(sim.list()).isEmpty();
        assertThat(xs.exists("/local/domain/1")).isFalse();
        assertThat(xs.exists("/local/domain/0/backend")).isFalse();
        // (the sim releases /vm/<uuid>; the empty /vm above it is the hypervisor's to keep)
        assertThat(xs.exists("/vm") ? xs.directory("/vm") : List.of()).isEmpty();
    }

    @Test
    void aGuestProgramThatExitsAtOnceFailsTheCreateWithItsOwnWordsAndLeavesNothing() throws Exception {
        Path missing = dir.resolve("no-such-guest.jar");
        Toolstack t = toolstack("{java} -jar " + missing + " --state-dir {state} --domid {domid}");
        assertThatThrownBy(() -> t.create(XlConfigParser.parse("sim.cfg", CFG, dir), null))
                .isInstanceOf(ToolstackException.class)
                .hasMessageStartingWith("the guest program of domain simguest exited with status 1 before attaching to its domain: ")
                .hasMessageContaining("Unable to access jarfile " + missing);
        assertThat(sim.list()).isEmpty();
        assertThat(xs.exists("/local/domain/1")).isFalse();
        assertThat(xs.exists("/local/domain/0/backend")).isFalse();
        assertThat(xs.exists("/vm") ? xs.directory("/vm") : List.of()).isEmpty();
        assertThat(t.list()).extracting(Toolstack.DomainInfo::name).containsExactly("Domain-0");
        assertThat(lifecycleLog).as("a failed start is the create's error, not a crash to act on").isEmpty();
    }

    @Test
    void theGuestRunsInTheInstallRootAndFindsTheShippedGuestJar() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        DomainLifecycle[] l = new DomainLifecycle[1];
        launcher = new GuestLauncher("{java} -jar {guest.jar} --state-dir {state} --domid {domid}", dir.resolve("state"),
                home, guestJar(), (domid, status) -> l[0].guestExited(domid, status));
        Toolstack t = new Toolstack(xs, new HypervisorDomainBuilder(sim), launcher, (type, name) -> name,
                RandomGenerator.of("L64X128MixRandom"), Duration.ofSeconds(1), OperatorLog.lines(notices::add));
        t.initDom0();
        lifecycle = new DomainLifecycle(t, sim::info, OperatorLog.lines(lifecycleLog::add));
        l[0] = lifecycle;
        Toolstack.Created c = t.create(XlConfigParser.parse("sim.cfg", CFG, dir), null);
        // create returns once the guest said it attached: no waiting here
        assertThat(Files.readString(guestLog("simguest"))).contains("domain " + c.domid() + ": attached");
        assertThat(ProcessHandle.of(c.guestPid()).flatMap(h -> h.info().command())).isPresent();
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + c.guestPid() + "/cwd"))).isEqualTo(home);
        t.destroy("simguest");
    }

    // ---- lifecycle: on_poweroff, on_reboot, on_crash

    private String guestCommand(String extra) throws IOException {
        return "{java} -jar " + guestJar() + " --state-dir {state} --domid {domid}" + extra;
    }

    private Path guestLog(String name) {
        return dir.resolve("state/guests/" + name + ".log");
    }

    private void awaitAttached(String name, int domid) throws Exception {
        await("domain " + domid + "'s guest to attach", 20_000, () -> {
            try {
                return Files.exists(guestLog(name)) && Files.readString(guestLog(name)).contains("domain " + domid + ": attached");
            } catch (IOException e) {
                return false;
            }
        });
    }

    private static void await(String what, long millis, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + millis + " ms waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Lines of this JVM's /proc/self/maps, and targets of its fds, that name the domain's directory. */
    private List<String> heldInDom0(int domid) throws IOException {
        String domainDir = sim.paths().domainDir(domid).toString() + "/";
        List<String> held = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            if (line.contains(domainDir)) {
                held.add("maps: " + line);
            }
        }
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(domainDir)) {
                        held.add("fd " + fd.getFileName() + ": " + target);
                    }
                } catch (IOException e) {
                    // closed meanwhile (the listing's own fd)
                }
            }
        }
        return held;
    }

    private void assertNothingLeftOf(int domid) throws IOException {
        assertThat(sim.info(domid)).isEmpty();
        assertThat(sim.pinnedGrants(domid)).isZero();
        assertThat(sim.dom0PortsInUse()).isZero();
        assertThat(heldInDom0(domid)).isEmpty();
        assertThat(sim.paths().domainDir(domid)).doesNotExist();
        assertThat(xs.exists("/local/domain/" + domid)).isFalse();
        assertThat(xs.exists("/local/domain/0/backend/vif/" + domid)).isFalse();
        assertThat(xs.exists("/local/domain/0/backend/vbd/" + domid)).isFalse();
        assertThat(xs.isDomainIntroduced(domid)).isFalse();
        assertThat(notices).as("no device waited for a backend of a dead domain").isEmpty();
    }

    @Test
    void aKilledGuestIsACrashAndItsDomainIsDestroyedWithinTwoSeconds() throws Exception {
        Toolstack t = toolstack(guestCommand(""));
        Toolstack.Created c = t.create(XlConfigParser.parse("sim.cfg", CFG, dir), null);
        int domid = c.domid();
        awaitAttached("simguest", domid);
        assertThat(heldInDom0(domid)).as("the check sees the domain's grant table mapped in dom0").isNotEmpty();

        ProcessHandle.of(c.guestPid()).orElseThrow().destroyForcibly(); // kill -9
        long killed = System.nanoTime();
        await("the crashed domain to be destroyed", 2_000, () -> sim.info(domid).isEmpty()
                && !xs.exists("/local/domain/" + domid) && t.list().stream().noneMatch(d -> d.name().equals("simguest")));
        assertThat((System.nanoTime() - killed) / 1_000_000).isLessThan(2_000);
        assertNothingLeftOf(domid);
        // The sim's crash notice and the guest process's exit race to tell it; either wording counts.
        await("the lifecycle's log line", 2_000, () -> lifecycleLog.stream().anyMatch(l -> l.matches("domain " + domid
                + " \\(simguest\\) crashed( \\(its guest process exited with status \\d+\\))?: destroyed \\(on_crash=destroy\\)")));
    }

    @Test
    void aGuestThatPowersItselfOffIsDestroyedAtOnce() throws Exception {
        Toolstack t = toolstack(guestCommand(" --shutdown poweroff@0.3"));
        int domid = t.create(XlConfigParser.parse("sim.cfg", CFG, dir), null).domid();
        java.util.Map<String, Long> seen = new java.util.concurrent.ConcurrentHashMap<>();
        sim.addDomainListener(new io.backplane.api.hypervisor.DomainListener() {
            @Override
            public void domainShutdown(io.backplane.api.hypervisor.DomainInfo d) {
                seen.put("shutdown " + d.shutdownReason(), System.nanoTime());
            }

            @Override
            public void domainDestroyed(int id) {
                seen.put("destroyed", System.nanoTime());
            }
        });
        await("the guest to power off and its domain to be destroyed", 20_000, () -> sim.info(domid).isEmpty()
                && !xs.exists("/local/domain/" + domid) && seen.containsKey("destroyed"));
        assertThat(seen).containsKey("shutdown POWEROFF");
        assertThat((seen.get("destroyed") - seen.get("shutdown POWEROFF")) / 1_000_000).isLessThan(1_000);
        assertNothingLeftOf(domid);
        await("the lifecycle's log line", 2_000, () -> lifecycleLog.contains(
                "domain " + domid + " (simguest) powered off: destroyed (on_poweroff=destroy)"));
    }

    @Test
    void onCrashRestartCreatesTheDomainAgainUnderItsName() throws Exception {
        Toolstack t = toolstack(guestCommand(""));
        Toolstack.Created c = t.create(XlConfigParser.parse("sim.cfg", CFG + "on_crash = \"restart\"\n", dir), null);
        int domid = c.domid();
        awaitAttached("simguest", domid);

        ProcessHandle.of(c.guestPid()).orElseThrow().destroyForcibly();
        await("the domain to come back under a new id", 2_000, () -> t.list().stream()
                .anyMatch(d -> d.name().equals("simguest") && d.domid() != domid));
        int again = t.list().stream().filter(d -> d.name().equals("simguest")).findFirst().orElseThrow().domid();
        assertThat(again).isNotEqualTo(domid);
        assertNothingLeftOf(domid);
        // same config: memory, devices with their requests, a guest process attached to the new domain
        assertThat(xs.read("/local/domain/" + again + "/memory/target")).isEqualTo("65536");
        assertThat(xs.read(new DeviceId(0, "vif", again, 0).backendPath() + "/request-multi-queue-max-queues"))
                .isEqualTo("2");
        assertThat(xs.exists(new DeviceId(0, "vbd", again, 51712).backendPath())).isTrue();
        awaitAttached("simguest", again);
        assertThat(t.list()).filteredOn(d -> d.domid() == again).singleElement()
                .satisfies(d -> assertThat(d.guestRunning()).isTrue());
        // logged once the restart's create returned, which is after the new guest said it attached
        await("the lifecycle's log line", 5_000, () -> lifecycleLog.stream().anyMatch(l -> l.matches("domain " + domid
                + " \\(simguest\\) crashed( \\(its guest process exited with status \\d+\\))?: restarted as domain "
                + again + " \\(on_crash=restart\\)")));
    }

    @Test
    void onCrashPreserveKeepsTheDomainShutDownUntilDestroyedWhichThenWaitsForNobody() throws Exception {
        Toolstack t = toolstack(guestCommand(""));
        Toolstack.Created c = t.create(XlConfigParser.parse("sim.cfg", CFG + "on_crash = \"preserve\"\n", dir), null);
        int domid = c.domid();
        awaitAttached("simguest", domid);

        ProcessHandle.of(c.guestPid()).orElseThrow().destroyForcibly();
        await("the crash to be preserved", 5_000, () -> lifecycleLog.stream().anyMatch(l -> l.matches("domain " + domid
                + " \\(simguest\\) crashed( \\(its guest process exited with status \\d+\\))?: preserved, shut down"
                + " with its devices until xl:destroy \\(on_crash=preserve\\)")));
        assertThat(sim.info(domid)).hasValueSatisfying(i -> {
            assertThat(i.state()).isEqualTo(io.backplane.api.hypervisor.DomainState.SHUTDOWN);
            assertThat(i.shutdownReason()).isEqualTo(io.backplane.api.hypervisor.ShutdownReason.CRASH);
        });
        assertThat(xs.exists("/local/domain/" + domid)).isTrue();

        long start = System.nanoTime();
        t.destroy("simguest");
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1_000);
        assertNothingLeftOf(domid);
    }

    @Test
    void aRebootRestartsTheDomainByDefault() throws Exception {
        Toolstack t = toolstack(guestCommand(" --shutdown reboot@0.3"));
        int domid = t.create(XlConfigParser.parse("sim.cfg", CFG, dir), null).domid();
        // The next incarnation runs on without rebooting again.
        launcher.setTemplate(guestCommand(""));
        await("the reboot to restart the domain", 20_000, () -> t.list().stream()
                .anyMatch(d -> d.name().equals("simguest") && d.domid() != domid));
        int again = t.list().stream().filter(d -> d.name().equals("simguest")).findFirst().orElseThrow().domid();
        assertNothingLeftOf(domid);
        awaitAttached("simguest", again);
        await("the lifecycle's log line", 5_000, () -> lifecycleLog.contains("domain " + domid
                + " (simguest) rebooted: restarted as domain " + again + " (on_reboot=restart)"));
    }
}
