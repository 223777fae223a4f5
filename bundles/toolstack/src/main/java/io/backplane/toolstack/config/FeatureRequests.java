package io.backplane.toolstack.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The seed's {@code features=name:value\;name:value} list. Names are kept as written (a Xen key
 * or an alias); the backend's capabilities decide whether they mean anything, so an unknown
 * name reaches XenStore and comes back rejected with a reason, never silently dropped.
 */
public final class FeatureRequests {

    private FeatureRequests() {
    }

    /** Parses the list; {@code ;} and {@code \;} both separate entries (xl needs the escape in a vif spec). */
    public static Map<String, String> parse(String spec) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String entry : spec.replace("\\;", ";").split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int colon = entry.indexOf(':');
            if (colon <= 0 || colon == entry.length() - 1) {
                throw new IllegalArgumentException("feature '" + entry + "' is not name:value");
            }
            put(out, entry.substring(0, colon).trim(), entry.substring(colon + 1).trim());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("features= names no feature");
        }
        return out;
    }

    /** Adds one request, checking the name and value are safe as a XenStore key and value. */
    public static void put(Map<String, String> requests, String name, String value) {
        if (!name.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new IllegalArgumentException("feature name '" + name + "' may only hold letters, digits, - and _");
        }
        if (value.isEmpty() || value.length() > 256 || value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("feature " + name + " has an unusable value '" + value + "'");
        }
        if (requests.putIfAbsent(name, value) != null && !requests.get(name).equals(value)) {
            throw new IllegalArgumentException("feature " + name + " is given twice, as '" + requests.get(name)
                    + "' and '" + value + "'");
        }
    }
}
