package io.backplane.api.ring;

import java.nio.file.Path;
import java.util.List;

/** The registry of every {@link RingStrategy} service; backends use only this. */
public interface RingStrategies {

    /** Opens {@code request} with the fittest strategy; RingException when none fits. */
    RingChannel open(RingRequest request);

    /** Opens {@code request} with the named strategy (operator override, hot swap). */
    RingChannel open(RingRequest request, String strategy);

    /**
     * The names of the registered strategies that can serve {@code request} (fitness 0 or more),
     * best first: highest fitness, then highest {@code service.ranking}. {@link #open(RingRequest)}
     * takes the first.
     */
    List<String> rank(RingRequest request);

    /**
     * {@link RingStrategy#prepare} of the named strategy, when it is registered and fits
     * {@code request}; null when it prepares nothing (the default).
     */
    default PreparedRing prepare(RingRequest request, String strategy, Path grantRecord) {
        return null;
    }

    /**
     * {@link #open(RingRequest, String)} with what {@link #prepare} mapped for it, taken over
     * (closed on failure). The default closes it and opens afresh.
     */
    default RingChannel open(RingRequest request, String strategy, PreparedRing prepared) {
        prepared.close();
        return open(request, strategy);
    }
}
