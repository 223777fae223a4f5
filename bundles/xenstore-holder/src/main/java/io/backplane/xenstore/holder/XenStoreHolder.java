package io.backplane.xenstore.holder;

import io.backplane.api.xenstore.XenStore;

import java.util.Map;
import java.util.function.Supplier;

/**
 * Where the XenStore bundle's component plugs its store in, and leaves it for its successor.
 * The holder, not the XenStore bundle, registers the {@link XenStore} service: while the XenStore
 * bundle is updated its users keep their service and wait (their calls block until the successor
 * attaches); their watches are registered again on the successor's store.
 *
 * <p>A hand-over is a map of JDK values only (byte arrays, lists, maps, strings, numbers and
 * {@code java.nio} channels): classes of the outgoing bundle would pin its class loader and mean
 * nothing to the incoming one.
 */
public interface XenStoreHolder {
    /** What the predecessor handed over, or an empty map (first start, or it stopped for good); taken once. */
    Map<String, Object> takeHandOver();

    /** {@code store} serves the XenStore service from now on; the service is registered on the first attach. */
    void attach(XenStore store);

    /**
     * {@code store} stops serving. The holder first lets calls already inside it finish and holds
     * new ones, then asks {@code handOver} for the state to keep for the successor. A null
     * {@code handOver} means the store ends for good (the runtime stops, or the XenStore mode
     * changes): the service is unregistered and its users go, as they would without a holder.
     */
    void detach(XenStore store, Supplier<Map<String, Object>> handOver);
}
