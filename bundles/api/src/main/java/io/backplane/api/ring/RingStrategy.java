package io.backplane.api.ring;

import java.nio.file.Path;

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

    /**
     * Maps {@code request}'s ring ahead of serving it, beside the process that serves it now (a
     * standby's preparation; Xen lets two processes map the same grant), with the grants the
     * strategy's data path keeps mapped across requests as {@code grantRecord} names them (another
     * process's record, only read; null or missing: none). Null (the default) when the strategy
     * prepares nothing: it then maps everything at {@link #open}.
     *
     * @throws RingException when a ring grant is refused; nothing stays mapped then
     */
    default PreparedRing prepare(RingRequest request, Path grantRecord) {
        return null;
    }

    /**
     * {@link #open(RingRequest)} with what {@link #prepare} mapped for the same request, taken
     * over (and closed on failure). The default closes it and opens afresh.
     */
    default RingChannel open(RingRequest request, PreparedRing prepared) {
        prepared.close();
        return open(request);
    }
}
