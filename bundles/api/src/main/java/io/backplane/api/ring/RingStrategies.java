package io.backplane.api.ring;

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
}
