package io.backplane.toolstack;

import io.backplane.api.device.DeviceId;
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
        sim.close();
        xs.close();
    }

    private Toolstack toolstack(String guestCommand) {
        Toolstack t = new Toolstack(xs, new HypervisorDomainBuilder(sim), new GuestLauncher(guestCommand, dir.resolve("state")),
                (type, name) -> name, RandomGenerator.of("L64X128MixRandom"), Duration.ofSeconds(1), notices::add);
        t.initDom0();
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
}
