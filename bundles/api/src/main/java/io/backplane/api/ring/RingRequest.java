package io.backplane.api.ring;

import java.util.Map;

/**
 * What a backend negotiated for one shared ring, read from the frontend's XenStore keys.
 *
 * @param frontendDomid  the guest that granted the ring pages
 * @param protocol       which ring it is: {@code netif-tx}, {@code netif-rx}, {@code blkif}, ...
 * @param requestLength  bytes of one request entry in ring.h's layout (12 for netif TX, 112 for blkif)
 * @param responseLength bytes of one response entry in ring.h's layout
 * @param ringRefs       the grant references of the ring pages, in order ({@code ring-ref0..N-1})
 * @param features       the negotiated features that concern the ring and its data path, as the
 *                       XenStore keys and values both ends agreed on (e.g. {@code feature-persistent=1},
 *                       {@code ring-page-order=2}); strategies judge their fitness from these
 */
public record RingRequest(int frontendDomid, String protocol, int requestLength, int responseLength,
                          int[] ringRefs, Map<String, String> features) {
    public RingRequest {
        if (ringRefs == null || ringRefs.length == 0) {
            throw new IllegalArgumentException("a ring needs at least one grant reference");
        }
        ringRefs = ringRefs.clone();
        features = Map.copyOf(features);
    }

    @Override
    public int[] ringRefs() {
        return ringRefs.clone();
    }

    /** True when the negotiated feature {@code key} is present and {@code "1"}. */
    public boolean enabled(String key) {
        return "1".equals(features.get(key));
    }
}
