package io.backplane.hypervisor.sim;

import io.backplane.api.log.OperatorLog;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.wire.XenStoreDaemon;
import java.io.IOException;
import java.nio.file.Path;

/** The project's real XenStore (store, xs_wire daemon with per-domain sockets, dom0 client) in a state directory. */
final class XenStoreFixture implements AutoCloseable {
    final Store store = new Store(Quotas.XEN_4_17);
    final XenStoreDaemon daemon;
    final EmbeddedXenStore dom0;

    XenStoreFixture(Path stateDir) throws IOException {
        daemon = new XenStoreDaemon(store, stateDir, OperatorLog.stderr("xenstored"));
        daemon.start();
        dom0 = new EmbeddedXenStore(store);
    }

    @Override
    public void close() {
        dom0.close();
        daemon.close();
    }
}
