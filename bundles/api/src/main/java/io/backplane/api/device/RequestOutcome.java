package io.backplane.api.device;

/**
 * The decision about one request.
 *
 * @param feature        the feature's Xen key, or the name as written when no feature answers to it
 * @param requestedAs    the name as written in the request (a key or an alias)
 * @param requestedValue the value as the toolstack wrote it
 * @param source         where the request was found
 * @param status         accepted, clamped or rejected
 * @param effectiveValue what is published for the feature (the default when rejected; empty
 *                       when the feature is unknown)
 * @param reason         why, in operator words; empty when accepted
 */
public record RequestOutcome(String feature, String requestedAs, String requestedValue, RequestSource source, RequestStatus status,
                             String effectiveValue, String reason) {
}
