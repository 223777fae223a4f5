package io.backplane.toolstack.config;

import io.backplane.api.backend.XenbusKeys;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * xl's vif spec ({@code xl-network-configuration(5)}): comma-separated {@code key=value}, plus the
 * seed's {@code queues=N} and {@code features=name:value\;name:value}. Defaults are libxl's:
 * bridge {@code xenbr0}, script {@code /etc/xen/scripts/vif-bridge}, type {@code vif}.
 */
public final class VifSpec {

    static final String SCRIPT_DIR = "/etc/xen/scripts";
    private static final String KEYS = "mac, bridge, script, ip, rate, type, mtu, devid, backend, queues, features";

    private VifSpec() {
    }

    /** Parses one spec; the reason of an IllegalArgumentException names the bad part. */
    public static NicConfig parse(String spec, int line) {
        Optional<String> mac = Optional.empty();
        Optional<String> ip = Optional.empty();
        Optional<String> rate = Optional.empty();
        Optional<Integer> mtu = Optional.empty();
        String bridge = "xenbr0";
        String script = SCRIPT_DIR + "/vif-bridge";
        String type = "vif";
        int devid = -1;
        int backend = 0;
        Map<String, String> features = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            part = part.trim();
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("'" + part + "' is not key=value (keys: " + KEYS + ")");
            }
            String key = part.substring(0, eq).trim();
            String value = part.substring(eq + 1).trim();
            switch (key) {
                case "mac" -> mac = Optional.of(mac(value));
                case "bridge" -> bridge = word(key, value);
                case "script" -> script = value.startsWith("/") ? value : SCRIPT_DIR + "/" + word(key, value);
                case "ip" -> ip = Optional.of(ip(value));
                case "rate" -> rate = Optional.of(rate(value));
                case "type" -> {
                    if (!value.equals("vif")) {
                        throw new IllegalArgumentException("type '" + value + "': a PV guest only has type=vif");
                    }
                }
                case "mtu" -> mtu = Optional.of((int) number(key, value, 68, 65535));
                case "devid" -> devid = (int) number(key, value, 0, 65535);
                case "backend" -> backend = (int) number(key, value, 0, 0x7FEF);
                case "queues" -> FeatureRequests.put(features, XenbusKeys.MULTI_QUEUE_MAX_QUEUES,
                        Long.toString(number(key, value, 1, 65535)));
                case "features" -> FeatureRequests.parse(value).forEach((k, v) -> FeatureRequests.put(features, k, v));
                default -> throw new IllegalArgumentException("unknown vif key '" + key + "' (keys: " + KEYS + ")");
            }
        }
        return new NicConfig(devid, mac, bridge, script, ip, rate, type, mtu, backend, features, line);
    }

    static String mac(String value) {
        if (!value.matches("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}")) {
            throw new IllegalArgumentException("mac '" + value + "' is not six hex bytes like 00:16:3e:12:34:56");
        }
        if ((Integer.parseInt(value.substring(0, 2), 16) & 1) != 0) {
            throw new IllegalArgumentException("mac '" + value + "' is a multicast address");
        }
        return value.toLowerCase(java.util.Locale.ROOT);
    }

    private static String ip(String value) {
        for (String a : value.split(" ")) {
            if (!a.matches("[0-9a-fA-F.:/]+")) {
                throw new IllegalArgumentException("ip '" + value + "' is not a list of addresses");
            }
        }
        return value;
    }

    static String word(String key, String value) {
        if (!value.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException(key + " '" + value + "' may only hold letters, digits, '.', '-' and '_'");
        }
        return value;
    }

    static long number(String key, String value, long min, long max) {
        try {
            long n = Long.parseLong(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw new IllegalArgumentException(key + " '" + value + "' is not a number from " + min + " to " + max);
    }

    /**
     * xl's {@code RATE[@INTERVAL]} (libxlu_vif.c): RATE is N with an optional G/M/K and B/s or b/s,
     * INTERVAL N with s, ms or us (default 50ms). libxl writes {@code bytes-per-interval,usecs}.
     */
    static String rate(String value) {
        String[] p = value.split("@", 2);
        var r = java.util.regex.Pattern.compile("(\\d+)([GMK]?)([Bb])/s").matcher(p[0]);
        if (!r.matches()) {
            throw new IllegalArgumentException("rate '" + value + "' is not like 10Mb/s or 100MB/s@20ms");
        }
        long bytes = Long.parseLong(r.group(1));
        if (bytes == 0 || bytes > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("rate '" + value + "' overflows");
        }
        bytes *= switch (r.group(2)) {
            case "G" -> 1_000_000_000L;
            case "M" -> 1_000_000L;
            case "K" -> 1_000L;
            default -> 1L;
        };
        if (r.group(3).equals("b")) {
            bytes /= 8;
        }
        long usecs = 50_000;
        if (p.length == 2) {
            var i = java.util.regex.Pattern.compile("(\\d+)([mu]?)s?").matcher(p[1]);
            if (!i.matches() || Long.parseLong(i.group(1)) == 0) {
                throw new IllegalArgumentException("rate interval '" + p[1] + "' is not like 20ms, 500us or 1s");
            }
            usecs = Long.parseLong(i.group(1)) * switch (i.group(2)) {
                case "m" -> 1_000L;
                case "u" -> 1L;
                default -> 1_000_000L;
            };
            if (usecs > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("rate interval '" + p[1] + "' overflows");
            }
        }
        return java.math.BigInteger.valueOf(bytes).multiply(java.math.BigInteger.valueOf(usecs))
                .divide(java.math.BigInteger.valueOf(1_000_000)) + "," + usecs;
    }
}
