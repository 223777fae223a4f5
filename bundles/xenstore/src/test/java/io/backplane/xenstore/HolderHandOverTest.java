package io.backplane.xenstore;

import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsTransaction;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.holder.internal.XenStoreFacade;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The holder's XenStore service across a store's hand-over, with real stores on both sides:
 * calls made meanwhile wait and reach the successor, in-process watches move to it, a
 * transaction begun before fails with EAGAIN and runs again, the service stays registered; it
 * goes only when the store ends for good.
 */
class HolderHandOverTest {

    @Test
    void callsWatchesAndTransactionsRideOverAHandOver() throws Exception {
        List<String> registry = new ArrayList<>();
        XenStoreFacade holder = new XenStoreFacade(context(registry));
        Store first = new Store(Quotas.XEN_4_17);
        try (EmbeddedXenStore before = new EmbeddedXenStore(first)) {
            holder.attach(before);
            assertThat(registry).containsExactly("registered");
            XenStore service = holder;
            service.write("/a", "1");
            LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
            service.watch("/a", "t", (path, token) -> events.add(path));
            assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("/a");
            XsTransaction tx = service.begin();
            tx.write("/a/in-tx", "x");

            holder.detach(before, () -> Map.of("image", first.image()));
            CompletableFuture<String> waiting = CompletableFuture.supplyAsync(() -> service.read("/a"));
            Thread.sleep(100);
            assertThat(waiting).isNotDone(); // held while no store is attached

            Store next = Store.fromImage((byte[]) holder.takeHandOver().get("image"), Quotas.XEN_4_17);
            try (EmbeddedXenStore after = new EmbeddedXenStore(next)) {
                holder.attach(after);
                assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo("1");
                assertThat(events.poll(10, TimeUnit.SECONDS)).as("registered again on the new store").isEqualTo("/a");
                service.write("/a/b", "2");
                assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("/a/b");
                assertThat(after.read("/a/b")).isEqualTo("2");
                assertThatThrownBy(() -> tx.write("/a/in-tx", "y")).isInstanceOfSatisfying(XsException.class,
                        e -> assertThat(e.error()).isEqualTo(XsError.EAGAIN));
                tx.abort();
                service.transaction(t -> {
                    t.write("/a/c", "3");
                    return null;
                });
                assertThat(after.directory("/a")).containsExactly("b", "c");
                assertThat(registry).containsExactly("registered");

                holder.detach(after, null); // for good: the runtime stops
                assertThat(registry).containsExactly("registered", "unregistered");
                assertThatThrownBy(() -> service.read("/a")).isInstanceOfSatisfying(XsException.class,
                        e -> assertThat(e.error()).isEqualTo(XsError.EIO));
            }
        }
    }

    /**
     * Reads (and a transaction's reads and writes) sent together reach the attached store as one
     * call, so that its connection sends them before it awaits the first reply: forwarded one by
     * one, each would cost its caller a round trip to xenstored.
     */
    @Test
    void requestsSentTogetherReachTheStoreTogether() throws Exception {
        XenStoreFacade holder = new XenStoreFacade(context(new ArrayList<>()));
        List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (EmbeddedXenStore store = new EmbeddedXenStore(new Store(Quotas.XEN_4_17))) {
            holder.attach(noting(XenStore.class, store, "", calls));
            XenStore service = holder;
            service.write("/a", "1");
            calls.clear();
            assertThat(service.tryReadAll(List.of("/a", "/b"))).containsExactly(Optional.of("1"), Optional.empty());
            XsTransaction tx = service.begin();
            assertThat(tx.tryReadAll(List.of("/a"))).containsExactly(Optional.of("1"));
            assertThat(tx.tryReadAllThenWrite(List.of("/a", "/b"), Map.of("/b", "2"))).containsExactly(Optional.of("1"), Optional.empty());
            tx.commit();
            assertThat(calls).containsExactly("tryReadAll", "begin", "tx tryReadAll", "tx tryReadAllThenWrite", "tx commit");
            assertThat(service.read("/b")).isEqualTo("2");
        }
    }

    /** {@code target} as a {@code type}, noting the name of each method called on it (and on the transactions it begins). */
    private static <T> T noting(Class<T> type, Object target, String prefix, List<String> calls) {
        return type.cast(Proxy.newProxyInstance(HolderHandOverTest.class.getClassLoader(), new Class<?>[] {type}, (p, m, args) -> {
            calls.add(prefix + m.getName());
            try {
                Object r = m.invoke(target, args);
                return r instanceof XsTransaction tx ? noting(XsTransaction.class, tx, "tx ", calls) : r;
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
            }
        }));
    }

    /** A bundle context that notes the holder's service registration and its end. */
    private static BundleContext context(List<String> registry) {
        ServiceRegistration<?> registration = (ServiceRegistration<?>) Proxy.newProxyInstance(
                HolderHandOverTest.class.getClassLoader(), new Class<?>[] {ServiceRegistration.class}, (p, m, args) -> {
                    if (m.getName().equals("unregister")) {
                        registry.add("unregistered");
                    }
                    return null;
                });
        return (BundleContext) Proxy.newProxyInstance(HolderHandOverTest.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (p, m, args) -> {
                    if (m.getName().equals("registerService")) {
                        registry.add("registered");
                        return registration;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }
}
