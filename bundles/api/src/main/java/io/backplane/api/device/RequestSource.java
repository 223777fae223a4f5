package io.backplane.api.device;

/** Where a feature request was found in the backend directory. */
public enum RequestSource {
    /** {@code <backend>/request-<feature>}, the form of the 2017 proposal. */
    REQUEST_KEY,
    /** {@code <backend>/require/<feature>}, the form of the follow-up RFC. */
    REQUIRE_DIR,
    /**
     * No pending key: an earlier request recorded under {@code feature-control/<feature>/requested},
     * re-evaluated because the policy changed.
     */
    RECORDED
}
