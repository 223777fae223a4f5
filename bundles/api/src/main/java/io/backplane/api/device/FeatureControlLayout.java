package io.backplane.api.device;

/**
 * Where feature control lives in a backend device directory (docs/feature-control.md). The
 * toolstack writes requests, the policy answers, shells read both; all use these names.
 * Request and answer nodes carry the permission {@code n<backend>} only, so the guest (which
 * may read the rest of the backend directory) cannot see them.
 */
public interface FeatureControlLayout {

    /** {@code <backend>/request-<feature> = value}: the 2017 proposal's form, written by the toolstack. */
    String REQUEST_PREFIX = "request-";

    /** {@code <backend>/require/<feature> = value}: the follow-up RFC's form, read as well. */
    String REQUIRE_DIR = "require";

    /** {@code <backend>/feature-control/<feature>/...}: the policy's answer per requested feature. */
    String CONTROL_DIR = "feature-control";

    /** The value as it was requested (kept after the request key is acknowledged). */
    String REQUESTED = "requested";

    /** {@code accepted}, {@code clamped} or {@code rejected}. */
    String STATUS = "status";

    /** The value published for the feature (empty for a feature nobody knows). */
    String VALUE = "value";

    /** Why it was clamped or rejected, in operator words; absent when accepted. */
    String REASON = "reason";

    static String requestKey(String feature) {
        return REQUEST_PREFIX + feature;
    }
}
