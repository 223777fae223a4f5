package io.backplane.backend;

import io.backplane.api.device.CapabilityRegistry;
import io.backplane.api.device.DeviceId;
import io.backplane.api.xenstore.XenStore;

import java.util.Map;
import java.util.Objects;

/** The xenbus fixture with a test driver and a connected vif, for tests outside this package. */
public final class XenbusTestSupport implements AutoCloseable {
    private final XenbusFixture fx;

    public XenbusTestSupport(String... rules) throws Exception {
        fx = new XenbusFixture(true, rules);
        fx.bus.addDriver(new TestDriver());
    }

    public DeviceId connectedVif(int domid, int devid, int queues) {
        DeviceId id = fx.createVif(domid, devid, Map.of());
        fx.awaitBackendState(id, 2);
        fx.frontendConnects(id, queues);
        fx.awaitBackendState(id, 4);
        return id;
    }

    public void awaitKey(String path, String value) {
        XenbusFixture.await(path + " = " + value, () -> Objects.equals(fx.peer.tryRead(path).orElse(null), value),
                () -> "it is " + fx.peer.tryRead(path).orElse("(none)"));
    }

    public DeviceRegistry registry() {
        return fx.bus;
    }

    public XenStore xenStore() {
        return fx.peer;
    }

    public CapabilityRegistry capabilities() {
        return fx.capabilities;
    }

    @Override
    public void close() throws Exception {
        fx.close();
    }
}
