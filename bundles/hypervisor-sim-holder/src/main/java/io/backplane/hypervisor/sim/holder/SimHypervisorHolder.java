package io.backplane.hypervisor.sim.holder;

import io.backplane.api.hypervisor.Domains;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.hypervisor.ForeignMemory;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.hypervisor.MappedRegion;

import java.util.Map;
import java.util.function.Supplier;

/**
 * Where the sim bundle's component plugs its hypervisor in, and leaves it for its successor. The
 * holder, not the sim bundle, registers {@link Domains}, {@link GrantTables}, {@link ForeignMemory}
 * and {@link EventChannels} ({@code backplane.hypervisor=sim}): while the sim bundle is updated
 * their users keep the services and what they got from them (dom0's event channels and mappings,
 * which the holder wraps), and their calls wait until the successor attaches.
 *
 * <p>A hand-over is a map of JDK values ({@code java.nio} channels, arrays, lists, maps, strings,
 * numbers) and of objects of the bundles under the sim that are not updated with it (the mappings
 * of the native bundle, the event handlers dom0 code gave, which are the holder's): classes of the
 * outgoing bundle would pin its class loader and mean nothing to the incoming one.
 */
public interface SimHypervisorHolder {
    /** What the predecessor handed over, or an empty map (first start, or it stopped for good); taken once. */
    Map<String, Object> takeHandOver();

    /** {@code hypervisor} serves the services from now on; they are registered on the first attach. */
    void attach(Hypervisor hypervisor);

    /**
     * {@code hypervisor} stops serving. The holder lets calls already inside it finish and holds new
     * ones, then asks {@code handOver} for the state to keep for the successor. A null
     * {@code handOver} means the hypervisor ends for good (the runtime stops): the services are
     * unregistered first, so their users go while it still answers them.
     */
    void detach(Hypervisor hypervisor, Supplier<Map<String, Object>> handOver);

    /** The sim as the holder forwards to it: the SPI, and what a restored sim holds for dom0. */
    interface Hypervisor extends Domains, GrantTables, ForeignMemory, EventChannels {
        /** dom0's channel on {@code port} taken over from the predecessor, or null when it has none there. */
        EventChannel dom0Channel(int port);

        /** dom0's mapping at {@code address} taken over from the predecessor, or null when it has none there. */
        MappedRegion dom0Region(long address);
    }
}
