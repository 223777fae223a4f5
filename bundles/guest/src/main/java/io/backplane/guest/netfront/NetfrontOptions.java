package io.backplane.guest.netfront;

import io.backplane.ring.RingShape;
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
 * <li>{@code traffic=raw|udp|tcp|mixed} what is generated: EtherType 0x88B5 test frames (default),
 *     UDP, TCP, or all of them in turn; {@code family=4|6|both} IP version(s) of UDP and TCP
 *     (default 4). UDP: {@code size} is the frame length; TCP: {@code size} is the frame length the
 *     data would take unsegmented: above one MSS it goes as one GSO frame when offloaded, else as
 *     MSS-sized segments (the guest stack segments). {@code count} counts frames, TCP sends.</li>
 * <li>{@code peer=10.0.0.1}, {@code peer-mac=fe:ff:ff:ff:ff:ff}, {@code ip6=fd00::2},
 *     {@code peer6=fd00::1}: the other end of the flows (defaults: the guest's {@code ip} or
 *     10.0.0.2 with last byte 1; dom0's vif MAC; fd00:: plus the IPv4 address)</li>
 * <li>{@code csum=1|0} send with checksum offload (NETTXF_csum_blank | NETTXF_data_validated, the
 *     pseudo-header sum in the L4 field) where the backend allows it: IPv4 always (netfront never
 *     reads feature-no-csum-offload), IPv6 with its feature-ipv6-csum-offload; default 1</li>
 * <li>{@code gso=1|0} send TCP GSO frames (one XEN_NETIF_EXTRA_TYPE_GSO extra, gso size = MSS)
 *     where the backend offers feature-sg and feature-gso-tcpv4/6 and checksum offload holds for
 *     the family (Linux drops TSO without SG or checksum offload); default 1; {@code mss=N}
 *     (default 1460 for IPv4, 1440 for IPv6, i.e. a 1500-byte MTU)</li>
 * <li>{@code rx-sg=0}, {@code rx-gso=0}, {@code rx-csum=0}, {@code rx-csum6=0}: what the
 *     frontend advertises for its receive side, by default all of Linux's: {@code rx-sg=0} omits
 *     feature-sg, {@code rx-gso=0} omits feature-gso-tcpv4/6, {@code rx-csum=0} writes
 *     feature-no-csum-offload=1 and omits feature-ipv6-csum-offload, {@code rx-csum6=0} omits
 *     feature-ipv6-csum-offload only</li>
 * <li>{@code ring-order=N} the largest TX and RX rings this netfront sets up, as log2 of their
 *     pages (0..4); it takes min(N, backend's {@code max-ring-page-order}) and writes
 *     {@code ring-page-order} with {@code tx-ring-ref0..} / {@code rx-ring-ref0..} only above 0,
 *     as blkfront does; default 0: one page per ring with {@code tx-ring-ref} / {@code rx-ring-ref},
 *     exactly what Linux netfront writes</li>
 * <li>{@code persistent=1|0} write {@code feature-persistent=1} when the backend offers it, and
 *     then keep to the bounded grant pool set up at connect (one page per ring slot); default 1</li>
 * <li>{@code layout=split-indexes+aligned-slots+separate-rings} (or {@code all}, {@code none}): the
 *     ring layout features it knows; it takes those the backend offers too (default none, as a
 *     Linux netfront)</li>
 * <li>{@code rx-readonly=N} misbehave: grant the RX buffers of ids 0..N-1 of every queue read-only,
 *     buffers the backend cannot write; it must answer the frames landing there with an error
 *     ({@code rx-errors}); default 0</li>
 * </ul>
 */
public record NetfrontOptions(String ip, int queues, boolean split, List<Integer> sizes, int rate, long count,
                              int forceQueues, String bogus, String traffic, List<Integer> families, boolean csum,
                              boolean gso, int mss, String peer, String peerMac, String ip6, String peer6,
                              boolean rxSg, boolean rxGso, boolean rxCsum, boolean rxCsum6, int ringOrder,
                              boolean persistent, RingShape layouts, int rxReadOnly) {

    /** XENBUS_MAX_RING_GRANT_ORDER: at most 16 pages per ring. */
    public static final int MAX_RING_ORDER = 4;

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
        families = List.copyOf(families);
        if (!List.of("raw", "udp", "tcp", "mixed").contains(traffic)) {
            throw new IllegalArgumentException("traffic= takes raw, udp, tcp or mixed, not '" + traffic + "'");
        }
        if (ringOrder < 0 || ringOrder > MAX_RING_ORDER) {
            throw new IllegalArgumentException("ring-order takes 0.." + MAX_RING_ORDER + ", not " + ringOrder);
        }
        if (rxReadOnly < 0) {
            throw new IllegalArgumentException("rx-readonly must be at least 0, not " + rxReadOnly);
        }
        if (mss < 0 || mss > 65000) {
            throw new IllegalArgumentException("mss " + mss + " outside 1..65000");
        }
    }

    /** The traffic kinds generated in turn. */
    public List<Kind> kinds() {
        List<Kind> k = new ArrayList<>();
        if (traffic.equals("raw") || traffic.equals("mixed")) {
            k.add(new Kind(0, 0));
        }
        for (int f : families) {
            if (traffic.equals("udp") || traffic.equals("mixed")) {
                k.add(new Kind(f, Checksums.PROTO_UDP));
            }
            if (traffic.equals("tcp") || traffic.equals("mixed")) {
                k.add(new Kind(f, Checksums.PROTO_TCP));
            }
        }
        return k;
    }

    /** The MSS of TCP over {@code family}. */
    public int mssFor(int family) {
        return mss > 0 ? mss : family == 6 ? 1440 : 1460;
    }

    /** One traffic kind: family 0 for the raw 0x88B5 test frames, else 4 or 6 with UDP or TCP. */
    public record Kind(int family, int proto) {
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
                kv.getOrDefault("bogus", ""), kv.getOrDefault("traffic", "raw"), families(kv.getOrDefault("family", "4")),
                flag(kv, "csum"), flag(kv, "gso"), number(kv.getOrDefault("mss", "0"), "mss"),
                kv.getOrDefault("peer", ""), kv.getOrDefault("peer-mac", "fe:ff:ff:ff:ff:ff"),
                kv.getOrDefault("ip6", ""), kv.getOrDefault("peer6", ""),
                flag(kv, "rx-sg"), flag(kv, "rx-gso"), flag(kv, "rx-csum"), flag(kv, "rx-csum6"),
                number(kv.getOrDefault("ring-order", "0"), "ring-order"), flag(kv, "persistent"),
                RingShape.parse(kv.getOrDefault("layout", "none")), number(kv.getOrDefault("rx-readonly", "0"), "rx-readonly"));
        Frames.parseMac(o.peerMac());                       // refuse bad addresses at once
        o.ip6Bytes();
        o.peer6Bytes();
        o.peer4();
        kv.keySet().removeAll(KNOWN);
        if (!kv.isEmpty()) {
            throw new IllegalArgumentException("unknown netfront option(s) " + kv.keySet() + "; known: " + String.join(", ", KNOWN));
        }
        return o;
    }

    private static final List<String> KNOWN = List.of("ip", "queues", "split", "size", "rate", "count", "force-queues",
            "bogus", "traffic", "family", "csum", "gso", "mss", "peer", "peer-mac", "ip6", "peer6", "rx-sg", "rx-gso",
            "rx-csum", "rx-csum6", "ring-order", "persistent", "layout", "rx-readonly");

    private static boolean flag(Map<String, String> kv, String key) {
        String v = kv.getOrDefault(key, "1").trim();
        if (!v.equals("0") && !v.equals("1")) {
            throw new IllegalArgumentException("netfront option " + key + " takes 0 or 1, not '" + v + "'");
        }
        return v.equals("1");
    }

    private static List<Integer> families(String v) {
        return switch (v.trim()) {
            case "4" -> List.of(4);
            case "6" -> List.of(6);
            case "both" -> List.of(4, 6);
            default -> throw new IllegalArgumentException("family= takes 4, 6 or both, not '" + v + "'");
        };
    }

    /** The guest's IPv4 address for generated flows: {@code ip}, else 10.0.0.2. */
    public byte[] ip4() {
        return Frames.parseIp(ip.isEmpty() ? "10.0.0.2" : ip);
    }

    /** The peer's IPv4 address: {@code peer}, else the guest's with last byte 1. */
    public byte[] peer4() {
        if (!peer.isEmpty()) {
            return Frames.parseIp(peer);
        }
        byte[] p = ip4();
        p[3] = 1;
        return p;
    }

    public byte[] ip6Bytes() {
        return ip6.isEmpty() ? mapped(ip4()) : Frames.parseIp6(ip6);
    }

    public byte[] peer6Bytes() {
        return peer6.isEmpty() ? mapped(peer4()) : Frames.parseIp6(peer6);
    }

    /** fd00::a.b.c.d */
    private static byte[] mapped(byte[] v4) {
        byte[] a = new byte[16];
        a[0] = (byte) 0xFD;
        System.arraycopy(v4, 0, a, 12, 4);
        return a;
    }

    private static int number(String s, String key) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("netfront option " + key + " wants a number, not '" + s + "'");
        }
    }
}
