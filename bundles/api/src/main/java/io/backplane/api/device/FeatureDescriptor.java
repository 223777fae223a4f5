package io.backplane.api.device;

import java.util.List;

/**
 * One feature a backend type can offer, as the frontend sees it in the backend directory.
 *
 * @param key           the Xen key name, e.g. {@code multi-queue-max-queues}
 * @param aliases       short names accepted in configs and requests, e.g. {@code queues}
 * @param type          bool, range or enum
 * @param defaultValue  what the backend publishes when nobody asks otherwise (XenStore form)
 * @param min           smallest value for a range (0 for bool, ignored for enum)
 * @param max           largest value for a range (1 for bool, ignored for enum)
 * @param allowedValues the values of an enum (empty otherwise)
 * @param needsReconnect true when a changed value only takes effect after the frontend
 *                      reconnects (queues, ring order), false when the backend can apply it live
 * @param description   one line for operators
 */
public record FeatureDescriptor(String key, List<String> aliases, FeatureType type, String defaultValue,
                                long min, long max, List<String> allowedValues, boolean needsReconnect,
                                String description) {

    public FeatureDescriptor {
        if (key == null || !key.matches("[A-Za-z0-9_-]+")) {
            throw new IllegalArgumentException("bad feature key '" + key + "'");
        }
        aliases = List.copyOf(aliases);
        allowedValues = List.copyOf(allowedValues);
        if (type == FeatureType.RANGE && min > max) {
            throw new IllegalArgumentException(key + ": min " + min + " above max " + max);
        }
        if (type == FeatureType.ENUM && !allowedValues.contains(defaultValue)) {
            throw new IllegalArgumentException(key + ": default '" + defaultValue + "' not an allowed value");
        }
    }

    /** A bool feature ({@code 0}/{@code 1}). */
    public static FeatureDescriptor bool(String key, boolean defaultOn, boolean needsReconnect,
                                         String description, String... aliases) {
        return new FeatureDescriptor(key, List.of(aliases), FeatureType.BOOL, defaultOn ? "1" : "0",
                0, 1, List.of(), needsReconnect, description);
    }

    /** An integer feature between {@code min} and {@code max}. */
    public static FeatureDescriptor range(String key, long defaultValue, long min, long max,
                                          boolean needsReconnect, String description, String... aliases) {
        return new FeatureDescriptor(key, List.of(aliases), FeatureType.RANGE, Long.toString(defaultValue),
                min, max, List.of(), needsReconnect, description);
    }

    /** True when {@code name} is this feature's key or one of its aliases. */
    public boolean answersTo(String name) {
        return key.equals(name) || aliases.contains(name);
    }
}
