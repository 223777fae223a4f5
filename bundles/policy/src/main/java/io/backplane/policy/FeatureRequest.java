package io.backplane.policy;

import io.backplane.api.device.RequestSource;

/** One request found in a backend directory: the name as written, the value, where it was. */
record FeatureRequest(String name, String value, RequestSource source) {
}
