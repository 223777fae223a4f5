package io.backplane.guest.netfront;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a netfront behaves, parsed from {@code key=value,...} (GuestMain's {@code --net} option or
 * the device's {@code backplane-net} XenStore key).
 *
 * <ul>
 * <li>{@code ip=10.0.0.2} address the guest answers ARP and ICMP echo for (none: no answers)</li>
 * <li>{@code queues=N} the most queues this netfront wants (Linux: min(vCPUs, 8)); default 2</li>
 * <li>{@code split=0|1} whether it uses split event channels when offered; default 1</li>
 * <li>{@code size=64:1500} sizes of generated frames, cycled; {@code rate=N} frames/s per queue;
 *     {@code count=N} frames per queue (0: generate none)</li>
 * <li>{@code force-queues=N} misbehave: ask for N queues whatever the backend offers</li>
 * <li>{@code bogus=cross-page|slots|drop-slots} misbehave: after connecting, send one request
 *     crossing its page, one packet over 22 slots (beyond netback's fatal limit), or one over 20
 *     slots (netback drops it and answers with errors)</li>
 * </ul>
 */
public record NetfrontOptions(String ip, int queues, boolean split, List<Integer> sizes, int rate, long count,
                              int forceQueues, String bogus) {

    public NetfrontOptions {
        sizes = List.copyOf(sizes);
        if (queues < 1) {
            throw new IllegalArgumentException("queues must be at least 1, not " + queues);
        }
        for (int s : sizes) {
            if (s < 60 || s > 65535) {
                throw new IllegalArgumentException("frame size " + s + " outside 60..65535");
            }
        }
        if (!List.of("", "cross-page", "slots", "drop-slots").contains(bogus)) {
            throw new IllegalArgumentException("bogus= takes cross-page, slots or drop-slots, not '" + bogus + "'");
        }
    }

    public static NetfrontOptions defaults() {
        return parse("");
    }

    public static NetfrontOptions parse(String spec) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("netfront option '" + part + "' is not key=value");
            }
            kv.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
        }
        List<Integer> sizes = new ArrayList<>();
        for (String s : kv.getOrDefault("size", "64:512:1514").split(":")) {
            sizes.add(number(s, "size"));
        }
        NetfrontOptions o = new NetfrontOptions(kv.getOrDefault("ip", ""), number(kv.getOrDefault("queues", "2"), "queues"),
                !"0".equals(kv.getOrDefault("split", "1")), sizes, number(kv.getOrDefault("rate", "1000"), "rate"),
                number(kv.getOrDefault("count", "0"), "count"), number(kv.getOrDefault("force-queues", "-1"), "force-queues"),
                kv.getOrDefault("bogus", ""));
        kv.keySet().removeAll(List.of("ip", "queues", "split", "size", "rate", "count", "force-queues", "bogus"));
        if (!kv.isEmpty()) {
            throw new IllegalArgumentException("unknown netfront option(s) " + kv.keySet()
                    + "; known: ip, queues, split, size, rate, count, force-queues, bogus");
        }
        return o;
    }

    private static int number(String s, String key) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("netfront option " + key + " wants a number, not '" + s + "'");
        }
    }
}
