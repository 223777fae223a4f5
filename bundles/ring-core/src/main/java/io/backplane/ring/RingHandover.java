package io.backplane.ring;

import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingException;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategies;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Hot swap of one live ring to another strategy, on the ring's worker thread at a batch
 * boundary: the same {@link RingRequest} is opened again (the frontend's pages and features do
 * not change), a {@link BackRing} is attached over the new mapping at the old one's private
 * indexes (BACK_RING_ATTACH: at a boundary req_cons = rsp_prod_pvt = the published rsp_prod),
 * then the old channel is closed. The new channel is opened before the old one is closed, so a
 * refused open leaves the ring served as before; Xen pins a grant once per mapping, so the ring
 * pages mapped twice for that moment is allowed. The shared page itself carries req_prod,
 * rsp_prod and the event indexes, so nothing else moves.
 *
 * @param channel the new channel
 * @param ring    the back ring over it, at the old indexes
 */
public record RingHandover(RingChannel channel, BackRing ring) {

    /**
     * @param strategy the strategy's name, or null for the fittest registered now
     * @throws IllegalStateException when {@code old} is not at a batch boundary (a request taken
     *         and not answered, or a response not pushed): the caller's bug, nothing changed
     * @throws RingException         when the strategy cannot open the ring; nothing changed
     */
    public static RingHandover reopen(RingStrategies strategies, RingRequest request, String strategy,
                                      RingChannel oldChannel, BackRing old) {
        if (old.requestConsumer() != old.responseProducerPrivate() || !old.responsesPublished()) {
            throw new IllegalStateException("ring not at a batch boundary: req_cons " + Integer.toUnsignedString(
                    old.requestConsumer()) + ", rsp_prod_pvt " + Integer.toUnsignedString(old.responseProducerPrivate()));
        }
        RingChannel next = strategy == null ? strategies.open(request) : strategies.open(request, strategy);
        BackRing ring;
        try {
            if (!next.geometry().equals(oldChannel.geometry())) {
                throw new RingException("strategy " + next.strategy() + " lays the " + request.protocol() + " ring out as "
                        + next.geometry().describe() + ", the frontend uses " + oldChannel.geometry().describe());
            }
            ring = BackRing.attach(next.ring(), GeometryRingLayout.of(next.geometry()), old.requestConsumer(), old.mirror());
        } catch (RuntimeException e) {
            next.close();
            throw e;
        }
        oldChannel.close();
        return new RingHandover(next, ring);
    }

    /** The refusal of a strategy that does not fit {@code ring} (one line, for the shell). */
    public static String unfit(String strategy, String ring, RingRequest request, List<String> fitting) {
        String features = request.features().entrySet().stream().filter(e -> e.getKey().startsWith("feature-"))
                .map(e -> e.getKey() + "=" + e.getValue()).sorted().collect(Collectors.joining(" "));
        return (strategy == null ? "no ring strategy fits" : "ring strategy " + strategy + " does not fit") + " the "
                + request.protocol()
                + " ring of " + ring + (features.isEmpty() ? "" : " (" + features + ")")
                + (fitting.isEmpty() ? "" : "; fitting: " + String.join(", ", fitting));
    }

    /** A swap that failed on {@code ring}, after the rings described in {@code done} had moved. */
    public static String failed(List<String> done, String ring, RuntimeException e) {
        return "swapping " + ring + " failed, it stays as it was: " + e.getMessage()
                + (done.isEmpty() ? "" : " (already swapped: " + String.join("; ", done) + ")");
    }
}
