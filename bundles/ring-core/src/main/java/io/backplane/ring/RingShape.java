package io.backplane.ring;

import io.backplane.api.device.FeatureDescriptor;
import io.backplane.ring.layout.AlignedSlotDescriptor;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.function.Function;

/**
 * Which of Backplane's ring layout features a ring runs: split indexes (B), cache-aligned slots
 * (C), separate request and response rings (I), in any combination; none is ring.h's layout.
 * The backend offers each as a bool key in its directory; the frontend opts in by writing the
 * same key as {@code 1} in its own (as blkif's {@code feature-persistent}), before it lays out its
 * rings. docs/ring-layouts.md is the contract; ring_layouts.h its C form.
 *
 * @param splitIndexes  each index on its own cache line ({@code feature-split-indexes})
 * @param alignedSlots  slots padded to 16 bytes (netif) or a multiple of 64 (blkif) ({@code feature-aligned-slots})
 * @param separateRings requests and responses on their own pages ({@code feature-separate-rings})
 */
public record RingShape(boolean splitIndexes, boolean alignedSlots, boolean separateRings) {

    public static final String SPLIT_INDEXES = "feature-split-indexes";
    public static final String ALIGNED_SLOTS = "feature-aligned-slots";
    public static final String SEPARATE_RINGS = "feature-separate-rings";
    /** Every layout feature key, in the order of the flags. */
    public static final List<String> KEYS = List.of(SPLIT_INDEXES, ALIGNED_SLOTS, SEPARATE_RINGS);
    /**
     * With separate rings, the grant references of the response ring's pages, next to the
     * request ring's {@code ring-ref} keys: {@code rsp-ring-ref} for a one-page ring,
     * {@code rsp-ring-ref0..N-1} with {@code ring-page-order}; netif prefixes {@code tx-}/{@code rx-}.
     */
    public static final String RSP_RING_REF = "rsp-ring-ref";

    /** ring.h's layout: what every frontend that writes none of the keys gets. */
    public static final RingShape LEGACY = new RingShape(false, false, false);

    public boolean legacy() {
        return !splitIndexes && !alignedSlots && !separateRings;
    }

    /** The shape whose keys are {@code 1} in {@code features} (a RingRequest's negotiated features). */
    public static RingShape of(Map<String, String> features) {
        return new RingShape("1".equals(features.get(SPLIT_INDEXES)), "1".equals(features.get(ALIGNED_SLOTS)),
                "1".equals(features.get(SEPARATE_RINGS)));
    }

    /**
     * The shape a directory offers: each key read through {@code key} (relative name to value),
     * {@code 1} when its trimmed value is 1, absent or anything else is not offered.
     */
    public static RingShape offered(Function<String, Optional<String>> key) {
        Map<String, String> features = new LinkedHashMap<>();
        for (String k : KEYS) {
            key.apply(k).ifPresent(v -> features.put(k, v.trim()));
        }
        return of(features);
    }

    /**
     * The shape named as {@link #describe} names it ({@code split-indexes+separate-rings}), with
     * {@code ring.h} or {@code none} for none and {@code all} for every feature: for frontends'
     * options. Refuses an unknown name, listing the known ones.
     */
    public static RingShape parse(String spec) {
        String s = spec.trim();
        if (s.isEmpty() || s.equals("none") || s.equals("ring.h")) {
            return LEGACY;
        }
        if (s.equals("all")) {
            return new RingShape(true, true, true);
        }
        boolean[] on = new boolean[KEYS.size()];
        for (String name : s.split("\\+")) {
            int i = KEYS.indexOf("feature-" + name.trim());
            if (i < 0) {
                throw new IllegalArgumentException("unknown ring layout feature '" + name
                        + "' (known: split-indexes, aligned-slots, separate-rings, all, none)");
            }
            on[i] = true;
        }
        return new RingShape(on[0], on[1], on[2]);
    }

    /** The features in both: what a frontend takes of an offer (min of offer and own limit). */
    public RingShape and(RingShape other) {
        return new RingShape(splitIndexes && other.splitIndexes, alignedSlots && other.alignedSlots,
                separateRings && other.separateRings);
    }

    /** The negotiated keys as {@code key=1}, for a RingRequest's features; empty for ring.h's layout. */
    public Map<String, String> features() {
        Map<String, String> m = new LinkedHashMap<>();
        boolean[] on = flags();
        for (int i = 0; i < on.length; i++) {
            if (on[i]) {
                m.put(KEYS.get(i), "1");
            }
        }
        return m;
    }

    private boolean[] flags() {
        return new boolean[] {splitIndexes, alignedSlots, separateRings};
    }

    /**
     * What a backend registers for the {@link #KEYS} with the negotiation policy: bools, offered
     * by default, taking effect when the frontend next sets up its rings, each with a one-line
     * description for operators and its {@link #alias} as its short name.
     */
    public static List<FeatureDescriptor> descriptors() {
        return List.of(descriptor(SPLIT_INDEXES, "ring indexes each on their own cache line"),
                descriptor(ALIGNED_SLOTS, "ring slots padded to cache-line fractions (netif 16, blkif 64 bytes)"),
                descriptor(SEPARATE_RINGS, "requests and responses on separate ring pages"));
    }

    private static FeatureDescriptor descriptor(String key, String description) {
        return FeatureDescriptor.bool(key, true, true, description, alias(key));
    }

    /** The short name of a feature key ({@code split-indexes} for {@code feature-split-indexes}). */
    private static String alias(String key) {
        return key.substring("feature-".length());
    }

    /**
     * The shape a frontend chose, read from its keys and checked against what was offered: a
     * frontend that lays its rings out in a way the backend did not offer would be read wrongly,
     * so that is refused (an IllegalArgumentException naming the key, for the backend to refuse
     * the device with), never ignored.
     *
     * @param offered      the features the backend offered ({@link #of} the published offer)
     * @param frontendKey  reads a key relative to the frontend directory
     * @param frontendPath for messages
     */
    public static RingShape negotiate(RingShape offered, Function<String, Optional<String>> frontendKey,
                                      String frontendPath) {
        boolean[] offer = offered.flags();
        boolean[] on = new boolean[KEYS.size()];
        for (int i = 0; i < on.length; i++) {
            String key = KEYS.get(i);
            String asked = frontendKey.apply(key).map(String::trim).orElse("0");
            if (!asked.equals("0") && !asked.equals("1")) {
                throw new IllegalArgumentException("reading " + frontendPath + "/" + key + ": '" + asked + "' is not 0 or 1");
            }
            if (asked.equals("1") && !offer[i]) {
                throw new IllegalArgumentException(frontendPath + "/" + key + " is 1 but the backend does not offer " + key
                        + ": the frontend's rings would be read in the wrong layout");
            }
            on[i] = asked.equals("1");
        }
        return new RingShape(on[0], on[1], on[2]);
    }

    /** Grant references per ring: its {@code pages}, twice with separate rings (requests, then responses). */
    public int grantedPages(int pages) {
        return separateRings ? Math.multiplyExact(pages, 2) : pages;
    }

    /**
     * The layout of a ring of this shape over {@code pages} pages per direction (with separate
     * rings the response ring has as many pages again, after the request ring's).
     *
     * @param protocol {@code blkif}, {@code netif-tx}, ... (picks the slot alignment)
     */
    public RingLayout layout(String protocol, int pages, int requestLength, int responseLength) {
        if (legacy()) {
            return LegacyRingLayout.ofPages(pages, SharedRingDescriptor.entryLength(requestLength, responseLength));
        }
        return FeatureRingLayout.of(this, pages, requestLength, responseLength,
                alignedSlots ? AlignedSlotDescriptor.alignment(protocol) : 1);
    }

    /** {@code ring.h}, or the features joined by {@code +}, e.g. {@code split-indexes+separate-rings}. */
    public String describe() {
        if (legacy()) {
            return "ring.h";
        }
        StringJoiner j = new StringJoiner("+");
        boolean[] on = flags();
        for (int i = 0; i < on.length; i++) {
            if (on[i]) {
                j.add(alias(KEYS.get(i)));
            }
        }
        return j.toString();
    }
}
