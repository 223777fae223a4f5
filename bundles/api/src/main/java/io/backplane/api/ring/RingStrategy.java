package io.backplane.api.ring;

/**
 * A way to serve a shared ring, registered as a service by its own bundle. The registry asks
 * every strategy for its {@link #fitness} and opens the ring with the fittest.
 */
public interface RingStrategy {

    /** Service property with the strategy's name, e.g. {@code grant-copy}, {@code persistent}. */
    String NAME = "backplane.ring.strategy";

    /**
     * Service property naming the negotiated features whose data path this strategy implements,
     * each as {@code <protocol>:<feature key>} (e.g. {@code blkif:feature-persistent}); absent when
     * it serves no feature beyond the ring itself. A backend offers a feature that only a strategy
     * can honour while a registered strategy names it here (a service filter can select them).
     */
    String SERVES = "backplane.ring.serves";

    String name();

    /**
     * How well this strategy serves {@code request}: negative when it cannot (a feature it needs
     * was not negotiated, or a layout it does not know); otherwise higher is better. The legacy
     * grant-copy strategy answers 0 for every ring.h ring so that something always fits.
     */
    int fitness(RingRequest request);

    /**
     * Maps the ring and prepares its data path. Throws {@link RingException} when a grant is
     * refused or the request is inconsistent; nothing stays mapped then.
     */
    RingChannel open(RingRequest request);
}
