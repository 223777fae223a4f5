package io.backplane.backend;

import io.backplane.api.device.DeviceId;
import io.backplane.api.log.OperatorLog;
import io.backplane.xs.client.SocketXenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A standby (a bus on a XenStore connection and state directory of its own, as {@code backplane
 * run --standby} starts) with a vif Connected and served by another live process: it leaves the
 * device, and adopts it the moment the owner dies or lets it go, on what it learned when it left
 * it, in three XenStore round trips, the claim checking in them that this still holds.
 */
class StandbyAdoptionTest {
    private XenbusFixture fx;
    private final List<Standby> standbys = new ArrayList<>();
    private Process owner;
    private DeviceId id;

    /** A standby bus with its own driver, connection (traced) and log. */
    private final class Standby implements AutoCloseable {
        final TestDriver driver = new TestDriver();
        final List<String> log = new CopyOnWriteArrayList<>();
        final SocketXenStore xs;
        final BackendBus bus;

        Standby(String name) throws Exception {
            xs = new SocketXenStore(fx.daemon.dom0Socket());
            Path dir = Files.createDirectories(fx.stateDir.resolve(name));
            bus = new BackendBus(new RoundTripTrace(xs, driver.calls), fx.policy.policy(), OperatorLog.lines(l -> {
                log.add(l);
                System.err.println(name + ": " + l);
            }), new BackendBus.Options(0, true, true, dir));
            bus.addDriver(driver);
            XenbusFixture.await(name + "'s rehearsal", () -> log.stream().anyMatch(l -> l.startsWith(id + ": rehearsed its adoption")),
                    log::toString);
            assertThat(log).anyMatch(l -> l.startsWith(id + ": removed (not served here: Connected and served by the live process "));
        }

        boolean adopted() {
            return driver.callsOf(id).contains("adopt");
        }

        /** The XenStore round trips from the trace's entry {@code from} to the driver's probe. */
        List<String> roundTripsToProbe(int from) {
            // A snapshot: the trace grows on (the device's own watches), and a sublist of a
            // copy-on-write list fails once its list has changed.
            List<String> calls = List.copyOf(driver.calls);
            return RoundTripTrace.of(calls.subList(from, calls.indexOf(id + " probe")));
        }

        @Override
        public void close() {
            bus.close();
            xs.close();
        }
    }

    /** A vif connected by the fixture's bus and handed over, then recorded as served by a live process. */
    @BeforeEach
    void servedByAnotherProcess() throws Exception {
        fx = new XenbusFixture(true, true);
        fx.bus.addDriver(new TestDriver());
        id = fx.createVif(3, 0, Map.of("queues", "2"));
        fx.awaitBackendState(id, 2);
        fx.frontendConnects(id, 2);
        fx.awaitBackendState(id, 4);
        fx.bus.close();
        owner = new ProcessBuilder("sleep", "60").start();
        fx.xs().write(ownerKey(), owner.pid() + "@" + owner.toHandle().info().startInstant().orElseThrow().toEpochMilli());
    }

    @AfterEach
    void stop() throws Exception {
        owner.destroyForcibly();
        for (Standby s : standbys) {
            s.close();
        }
        fx.close();
    }

    private String ownerKey() {
        return id.backendPath() + "/" + DeviceRecord.OWNER;
    }

    private Standby standby(String name) throws Exception {
        Standby s = new Standby(name);
        standbys.add(s);
        return s;
    }

    private void kill() throws InterruptedException {
        owner.destroyForcibly();
        assertThat(owner.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aKilledOwnersDeviceIsClaimedInThreeRoundTrips() throws Exception {
        Standby standby = standby("standby");
        int from = standby.driver.calls.size();
        kill();
        XenbusFixture.await("the adoption", standby::adopted, standby.log::toString);

        assertThat(standby.roundTripsToProbe(from)).as("from the owner's death to the driver's probe")
                .containsExactly("begin", "read 8 and write 2 together", "commit");
        assertThat(fx.xs().read(ownerKey())).isEqualTo(DeviceRecord.self());
        assertThat(standby.driver.callsOf(id)).containsExactly("probe", "adopt");
        XenbusFixture.await("the adoption's log line", () -> standby.log.stream().anyMatch(l -> l.startsWith(
                id + ": re-attached to the live rings (its backend process " + owner.pid() + "@")
                && l.contains(", on the record read when it was left to its owner), 2 queues")), standby.log::toString);
        // It serves the device from now on: the frontend's watch was set after the adoption.
        fx.frontendState(id, 5);
        fx.awaitBackendState(id, 5);
        assertThat(standby.driver.callsOf(id)).containsExactly("probe", "adopt", "disconnect");
    }

    @Test
    void aReleasedDeviceIsClaimedInThreeRoundTripsFromTheRelease() throws Exception {
        Standby standby = standby("standby");
        int from = standby.driver.calls.size();
        fx.xs().rm(ownerKey());                    // what a graceful hand-over does last

        XenbusFixture.await("the adoption", standby::adopted, standby.log::toString);
        assertThat(standby.roundTripsToProbe(from)).as("from the release to the driver's probe")
                .containsExactly("begin", "read 8 and write 2 together", "commit");
        XenbusFixture.await("the adoption's log line", () -> standby.log.stream().anyMatch(l -> l.startsWith(
                id + ": re-attached to the live rings (it was handed over)")), standby.log::toString);
    }

    /** The frontend left Connected after the standby looked: the claim sees it, nothing is adopted. */
    @Test
    void aFrontendThatLeftConnectedSinceIsNotAdopted() throws Exception {
        Standby standby = standby("standby");
        fx.frontendState(id, 5);                   // the standby watches no frontend of a device it left
        String dead = fx.xs().read(ownerKey());
        kill();

        XenbusFixture.await("the look afresh", () -> standby.log.contains(
                id + ": backend state 4, frontend state 5 since it was left to its owner; looking at it afresh"),
                standby.log::toString);
        XenbusFixture.await("the fresh probe", () -> standby.driver.callsOf(id).contains("probe"), standby.log::toString);
        fx.awaitBackendState(id, 5);               // probed afresh, then follows the frontend to Closing
        assertThat(standby.driver.callsOf(id)).doesNotContain("adopt");
        assertThat(fx.xs().read(ownerKey())).as("not claimed").isEqualTo(dead);
    }

    /** Two standbys on one device whose owner dies: exactly one claims it, the other leaves it to that one. */
    @Test
    void ofTwoStandbysExactlyOneAdopts() throws Exception {
        Standby a = standby("standby-a");
        Standby b = standby("standby-b");
        kill();

        XenbusFixture.await("an adoption", () -> a.adopted() || b.adopted(), () -> a.log + "\n" + b.log);
        Standby loser = a.adopted() ? b : a;
        // The loser found the winner's claim (or failed to commit beside it and found it then), and
        // left the device to the winner's process: its second "not served here".
        XenbusFixture.await("the loser leaving it", () -> loser.log.stream()
                .filter(l -> l.startsWith(id + ": removed (not served here: ")).count() >= 2, loser.log::toString);
        assertThat(a.adopted() ^ b.adopted()).as("exactly one adopted").isTrue();
        assertThat(loser.driver.callsOf(id)).doesNotContain("adopt");
        assertThat(fx.xs().read(ownerKey())).isEqualTo(DeviceRecord.self());
    }
}
