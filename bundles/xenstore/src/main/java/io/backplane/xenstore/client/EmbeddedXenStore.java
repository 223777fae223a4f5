package io.backplane.xenstore.client;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.api.xenstore.XsTransaction;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.api.xenstore.XsWatchListener;
import io.backplane.xenstore.store.Connection;
import io.backplane.xenstore.store.Store;
import io.backplane.xs.client.ForwardingXsOps;
import io.backplane.xs.client.Registered;
import io.backplane.xs.client.WatchDispatcher;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A XenStore connection to the store in this JVM, acting as privileged dom0. Calls go straight
 * to the store; watch events arrive on this connection's event thread.
 */
public final class EmbeddedXenStore implements XenStore, ForwardingXsOps, AutoCloseable {
    private final Store store;
    private final Connection connection;
    private final WatchDispatcher dispatcher;

    public EmbeddedXenStore(Store store) {
        this.store = store;
        this.dispatcher = new WatchDispatcher("xenstore-events-embedded");
        this.connection = store.connect(0, true, dispatcher::dispatch);
    }

    /** Node operations, outside (tx 0) or inside a transaction. */
    private class Ops implements io.backplane.api.xenstore.XsOps {
        final int tx;

        Ops(int tx) {
            this.tx = tx;
        }

        @Override
        public String read(String path) {
            return new String(store.read(connection, tx, path), StandardCharsets.UTF_8);
        }

        @Override
        public void write(String path, String value) {
            store.write(connection, tx, path, value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void mkdir(String path) {
            store.mkdir(connection, tx, path);
        }

        @Override
        public void rm(String path) {
            store.rm(connection, tx, path);
        }

        @Override
        public List<String> directory(String path) {
            return store.directory(connection, tx, path).children();
        }

        @Override
        public List<XsPerm> getPerms(String path) {
            return store.getPerms(connection, tx, path);
        }

        @Override
        public void setPerms(String path, List<XsPerm> perms) {
            store.setPerms(connection, tx, path, perms);
        }
    }

    private final class Tx extends Ops implements XsTransaction {
        private boolean ended;

        Tx(int tx) {
            super(tx);
        }

        @Override
        public void commit() {
            ended = true;
            store.transactionEnd(connection, tx, true);
        }

        @Override
        public void abort() {
            if (!ended) {
                ended = true;
                store.transactionEnd(connection, tx, false);
            }
        }
    }

    private final Ops direct = new Ops(0);

    @Override
    public io.backplane.api.xenstore.XsOps nodeOps() {
        return direct;
    }

    @Override
    public XsTransaction begin() {
        return new Tx(store.transactionStart(connection, 0));
    }

    @Override
    public XsWatch watch(String path, String token, XsWatchListener listener) {
        WatchDispatcher.Registration r = dispatcher.add(path, token, listener);
        try {
            store.watch(connection, path, token, () -> { });
        } catch (RuntimeException e) {
            dispatcher.remove(r);
            throw e;
        }
        return new Registered(path, token, r, () -> store.unwatch(connection, path, token), dispatcher);
    }

    @Override
    public String getDomainPath(int domid) {
        return store.domainPath(domid);
    }

    @Override
    public void introduceDomain(int domid, long storeGfn, int storeEventChannel) {
        store.introduce(connection, domid, storeGfn, storeEventChannel);
    }

    @Override
    public void releaseDomain(int domid) {
        store.release(connection, domid);
    }

    @Override
    public boolean isDomainIntroduced(int domid) {
        return store.isIntroduced(connection, domid);
    }

    @Override
    public void setTarget(int domid, int targetDomid) {
        store.setTarget(connection, domid, targetDomid);
    }

    @Override
    public void close() {
        store.disconnect(connection);
        dispatcher.close();
    }
}
