package io.backplane.backend;

import io.backplane.api.device.DeviceId;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.policy.PolicyFixture;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xs.client.SocketXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.wire.XenStoreDaemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The real XenStore daemon with the backend core on an in-process connection, and the toolstack
 * and the frontends as peers on the daemon's socket writing plain keys.
 */
final class XenbusFixture implements AutoCloseable {
    final Path stateDir;
    final Store store = new Store(Quotas.XEN_4_17);
    final XenStoreDaemon daemon;
    final EmbeddedXenStore backendXs;
    final SocketXenStore peer;
    final List<String> log = new CopyOnWriteArrayList<>();
    final BackendBus bus;
    final io.backplane.api.device.CapabilityRegistry capabilities;
    final PolicyFixture.Wired policy;

    XenbusFixture(boolean writeHotplugStatus, String... policyRules) throws IOException {
        this(writeHotplugStatus, false, policyRules);
    }

    /** @param keepDevices hand devices over when the bus closes (see BackendBus.Options) */
    XenbusFixture(boolean writeHotplugStatus, boolean keepDevices, String... policyRules) throws IOException {
        stateDir = Files.createTempDirectory("xenbus-test");
        daemon = new XenStoreDaemon(store, stateDir, OperatorLog.stderrWarnings("xenstored"));
        daemon.start();
        backendXs = new EmbeddedXenStore(store);
        peer = new SocketXenStore(daemon.dom0Socket());
        PolicyFixture.Wired wired = PolicyFixture.policy(backendXs, policyRules);
        capabilities = wired.registry();
        policy = wired;
        bus = new BackendBus(backendXs, wired.policy(), OperatorLog.lines(line -> {
            log.add(line);
            System.err.println("backend: " + line);
        }), new BackendBus.Options(0, writeHotplugStatus, keepDevices, stateDir));
        wired.addListener(bus::offerChanged);
    }

    /** What libxl writes for a vif, in one transaction (xen-pv-facts: "A real vif and vbd pair"). */
    DeviceId createVif(int domid, int devid, Map<String, String> requests) {
        DeviceId id = new DeviceId(0, "vif", domid, devid);
        String be = id.backendPath();
        String fe = id.frontendPath();
        peer.transaction(tx -> {
            tx.write("/local/domain/" + domid + "/name", "guest" + domid);
            tx.write(be + "/frontend", fe);
            tx.write(be + "/frontend-id", Integer.toString(domid));
            tx.write(be + "/online", "1");
            tx.write(be + "/state", "1");
            tx.write(be + "/script", "/etc/xen/scripts/vif-bridge");
            tx.write(be + "/mac", "00:16:3e:00:00:0" + devid);
            tx.write(be + "/bridge", "xenbr0");
            tx.write(be + "/handle", Integer.toString(devid));
            tx.write(be + "/type", "vif");
            tx.write(be + "/hotplug-status", "");
            requests.forEach((k, v) -> tx.write(be + "/request-" + k, v));
            tx.write(fe + "/backend", be);
            tx.write(fe + "/backend-id", "0");
            tx.write(fe + "/state", "1");
            tx.write(fe + "/handle", Integer.toString(devid));
            return null;
        });
        return id;
    }

    void frontendState(DeviceId id, int state) {
        peer.write(id.frontendPath() + "/state", Integer.toString(state));
    }

    void frontendConnects(DeviceId id, int queues) {
        peer.transaction(tx -> {
            tx.write(id.frontendPath() + "/multi-queue-num-queues", Integer.toString(queues));
            tx.write(id.frontendPath() + "/request-rx-copy", "1");
            tx.write(id.frontendPath() + "/state", "4");
            return null;
        });
    }

    /** The frontend connects with {@code queues} queues and the backend follows to Connected. */
    void connects(DeviceId id, int queues) {
        frontendConnects(id, queues);
        awaitBackendState(id, 4);
    }

    /** A new vif (no feature requests) whose backend reached InitWait and whose frontend then connected. */
    DeviceId connectedVif(int domid, int queues) {
        DeviceId id = createVif(domid, 0, Map.of());
        awaitBackendState(id, 2);
        connects(id, queues);
        return id;
    }

    String backendState(DeviceId id) {
        return peer.tryRead(id.backendPath() + "/state").orElse("(none)");
    }

    void awaitBackendState(DeviceId id, int state) {
        await(id + " backend state " + state, () -> backendState(id).equals(Integer.toString(state)),
                () -> "state is " + backendState(id));
    }

    static void await(String what, BooleanSupplier condition, java.util.function.Supplier<String> now) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what + ": " + now.get());
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    XenStore xs() {
        return peer;
    }

    @Override
    public void close() throws IOException {
        bus.close();
        peer.close();
        backendXs.close();
        daemon.close();
        try (var s = Files.walk(stateDir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
