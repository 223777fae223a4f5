package io.backplane.toolstack.config;

import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the subset of a libvirt domain XML that maps onto xl's: {@code <name>}, {@code <uuid>},
 * {@code <memory>}, {@code <vcpu>}, {@code <interface>} and {@code <disk>}. Inside interfaces and
 * disks every element and attribute is either understood or refused, so nothing the operator
 * asked for (a bandwidth limit, an offload) is silently dropped. Mapping to Xen feature keys:
 * {@code <driver queues='N'>} is {@code multi-queue-max-queues}; {@code <host tso4= tso6= csum=>}
 * are {@code feature-gso-tcpv4}, {@code feature-gso-tcpv6} and {@code feature-ipv6-csum-offload}
 * (netback's only checksum offload flag: IPv4 checksum offload is always on in netif).
 */
public final class LibvirtXmlParser {

    private static final Map<String, String> HOST_OFFLOADS = Map.of(
            "tso4", NetifKeys.FEATURE_GSO_TCPV4, "tso6", NetifKeys.FEATURE_GSO_TCPV6,
            "csum", NetifKeys.FEATURE_IPV6_CSUM_OFFLOAD);
    private static final Set<String> INTERFACE_IGNORED = Set.of("alias", "address", "target", "boot", "link");
    private static final Set<String> DISK_IGNORED = Set.of("alias", "address", "boot", "serial", "shareable");

    private final String source;

    private LibvirtXmlParser(String source) {
        this.source = source;
    }

    public static DomainConfig parse(String source, String xml, Path baseDir) {
        return new LibvirtXmlParser(source).domain(XmlElement.parse(source, xml), baseDir);
    }

    private DomainConfig domain(XmlElement d, Path baseDir) {
        if (!d.name().equals("domain")) {
            throw fail(d, "the root element is <" + d.name() + ">, not <domain>");
        }
        if (d.attr("type").isPresent() && !d.attr("type").get().equals("xen")) {
            throw fail(d, "domain type '" + d.attr("type").get() + "' is not xen");
        }
        XmlElement nameEl = d.child("name").orElseThrow(() -> fail(d, "no <name>"));
        String name;
        try {
            name = DomainNames.check(source, nameEl.trimmedText());
        } catch (ConfigException e) {
            throw fail(nameEl, "domain name '" + nameEl.trimmedText() + "' must be 1-64 letters, digits, '.', '-' or '_'");
        }
        Optional<String> uuid = d.child("uuid").map(XmlElement::trimmedText);
        long memoryMiB = d.child("memory").map(this::memoryMiB).orElse(128L);
        int vcpus = d.child("vcpu").map(v -> (int) number(v, "<vcpu>", v.trimmedText(), 1, 128)).orElse(1);

        List<NicConfig> nics = new ArrayList<>();
        List<DiskConfig> disks = new ArrayList<>();
        Optional<XmlElement> devices = d.child("devices");
        if (devices.isPresent()) {
            for (XmlElement e : devices.get().children()) {
                switch (e.name()) {
                    case "interface" -> nics.add(nic(e));
                    case "disk" -> disks.add(disk(e, baseDir));
                    default -> { } // consoles, graphics, ...: the domain builder's concern, not a PV backend's
                }
            }
        }
        DomainDevices.check(source, nics, disks);
        // libvirt has no on_watchdog element (its <watchdog action=> is a device): xl's default stays.
        LifecycleActions actions = LifecycleActions.read((key, def) -> {
            Optional<XmlElement> el = key.equals(LifecycleActions.ON_WATCHDOG) ? Optional.empty() : d.child(key);
            if (el.isEmpty()) {
                return def;
            }
            try {
                return LifecycleActions.parse("<" + key + ">", el.get().trimmedText());
            } catch (IllegalArgumentException e) {
                throw fail(el.get(), "<" + key + ">: " + e.getMessage());
            }
        });
        return new DomainConfig(name, uuid, memoryMiB, vcpus, DomainDevices.numberNics(nics), disks, actions, source);
    }

    private long memoryMiB(XmlElement m) {
        String unit = m.attr("unit").orElse("KiB");
        long factor = switch (unit) {
            case "b", "bytes" -> 1L;
            case "KB" -> 1000L;
            case "k", "KiB" -> 1024L;
            case "MB" -> 1000_000L;
            case "M", "MiB" -> 1L << 20;
            case "GB" -> 1000_000_000L;
            case "G", "GiB" -> 1L << 30;
            default -> throw fail(m, "memory unit '" + unit + "' is not one of b, KB, KiB, MB, MiB, GB, GiB");
        };
        long bytes = number(m, "<memory>", m.trimmedText(), 1, Long.MAX_VALUE / factor) * factor;
        long mib = bytes >> 20;
        if (mib < 16) {
            throw fail(m, "memory of " + mib + " MiB is below the 16 MiB a guest needs");
        }
        return mib;
    }

    private NicConfig nic(XmlElement e) {
        String type = e.attr("type").orElse("bridge");
        if (!type.equals("bridge") && !type.equals("ethernet")) {
            throw fail(e, "<interface type='" + type + "'>: only bridge and ethernet interfaces map to a vif");
        }
        StringBuilder spec = new StringBuilder();
        Map<String, String> features = new LinkedHashMap<>();
        for (XmlElement c : e.children()) {
            switch (c.name()) {
                case "mac" -> spec.append(",mac=").append(required(c, "address"));
                case "source" -> spec.append(",bridge=").append(required(c, "bridge"));
                case "script" -> spec.append(",script=").append(required(c, "path"));
                case "ip" -> spec.append(",ip=").append(required(c, "address"));
                case "model" -> {
                    String m = c.attr("type").orElse("netfront");
                    if (!m.equals("netfront")) {
                        throw fail(c, "<model type='" + m + "'>: a PV guest's interface is netfront");
                    }
                }
                case "driver" -> driver(c, features);
                default -> {
                    if (!INTERFACE_IGNORED.contains(c.name())) {
                        throw fail(c, "<" + c.name() + "> in <interface> has no Xen netif equivalent here "
                                + "(understood: mac, source, script, ip, model, driver)");
                    }
                }
            }
        }
        try {
            NicConfig n = VifSpec.parse(spec.toString(), e.line());
            Map<String, String> all = new LinkedHashMap<>(n.features());
            features.forEach((k, v) -> FeatureRequests.put(all, k, v));
            return new NicConfig(n.devid(), n.mac(), n.bridge(), n.script(), n.ip(), n.rate(), n.type(), n.mtu(),
                    n.backendDomid(), all, e.line());
        } catch (IllegalArgumentException ex) {
            throw fail(e, ex.getMessage());
        }
    }

    private void driver(XmlElement d, Map<String, String> features) {
        for (Map.Entry<String, String> a : d.attributes().entrySet()) {
            switch (a.getKey()) {
                case "queues" -> features.put(XenbusKeys.MULTI_QUEUE_MAX_QUEUES,
                        Long.toString(number(d, "queues", a.getValue(), 1, 65535)));
                case "name" -> { } // vhost/qemu choose a host driver; the vif backend is Backplane's
                default -> throw fail(d, "<driver " + a.getKey() + "=...> has no Xen netif equivalent (understood: queues)");
            }
        }
        for (XmlElement c : d.children()) {
            if (!c.name().equals("host")) {
                throw fail(c, "<" + c.name() + "> in <driver>: only <host> offloads map to netback features");
            }
            for (Map.Entry<String, String> a : c.attributes().entrySet()) {
                String key = HOST_OFFLOADS.get(a.getKey());
                if (key == null) {
                    throw fail(c, "<host " + a.getKey() + "=...> has no Xen netif feature (understood: csum, tso4, tso6)");
                }
                features.put(key, onOff(c, a.getKey(), a.getValue()));
            }
        }
    }

    private DiskConfig disk(XmlElement e, Path baseDir) {
        String type = e.attr("type").orElse("file");
        String device = e.attr("device").orElse("disk");
        if (!type.equals("file") && !type.equals("block")) {
            throw fail(e, "<disk type='" + type + "'>: only file and block disks map to a vbd");
        }
        if (!device.equals("disk") && !device.equals("cdrom")) {
            throw fail(e, "<disk device='" + device + "'>: only disk and cdrom map to a vbd");
        }
        String target = null;
        String vdev = null;
        boolean readOnly = false;
        StringBuilder extra = new StringBuilder();
        for (XmlElement c : e.children()) {
            switch (c.name()) {
                case "source" -> target = c.attr(type.equals("file") ? "file" : "dev")
                        .orElseThrow(() -> fail(c, "<source> needs " + (type.equals("file") ? "file=" : "dev=")));
                case "target" -> {
                    vdev = required(c, "dev");
                    String bus = c.attr("bus").orElse("xen");
                    if (!bus.equals("xen")) {
                        throw fail(c, "<target bus='" + bus + "'>: a PV disk is on bus xen");
                    }
                }
                case "readonly" -> readOnly = true;
                case "driver" -> extra.append(diskDriver(c));
                default -> {
                    if (!DISK_IGNORED.contains(c.name())) {
                        throw fail(c, "<" + c.name() + "> in <disk> has no vbd equivalent here "
                                + "(understood: driver, source, target, readonly)");
                    }
                }
            }
        }
        if (target == null) {
            throw fail(e, "<disk> has no <source>");
        }
        if (vdev == null) {
            throw fail(e, "<disk> has no <target dev=...>");
        }
        String spec = "vdev=" + vdev + ",access=" + (readOnly ? "ro" : "rw")
                + (device.equals("cdrom") ? ",devtype=cdrom" : "") + extra + ",target=" + target;
        try {
            return DiskSpec.parse(spec, e.line(), baseDir);
        } catch (IllegalArgumentException ex) {
            throw fail(e, ex.getMessage());
        }
    }

    private String diskDriver(XmlElement d) {
        StringBuilder spec = new StringBuilder();
        StringBuilder features = new StringBuilder();
        for (Map.Entry<String, String> a : d.attributes().entrySet()) {
            String v = a.getValue();
            switch (a.getKey()) {
                case "name" -> {
                    if (v.startsWith("tap")) {
                        throw fail(d, "<driver name='" + v + "'>: blktap disks are not served; use phy, file or qemu");
                    }
                }
                case "type" -> {
                    if (!v.equals("raw")) {
                        throw fail(d, "<driver type='" + v + "'>: Backplane serves raw images only");
                    }
                }
                case "queues" -> features.append(";" + XenbusKeys.MULTI_QUEUE_MAX_QUEUES + ":").append(number(d, "queues", v, 1, 65535));
                case "discard" -> {
                    if (!v.equals("unmap") && !v.equals("ignore")) {
                        throw fail(d, "<driver discard='" + v + "'> is not unmap or ignore");
                    }
                    spec.append(v.equals("unmap") ? ",discard" : ",no-discard");
                }
                case "cache", "io" -> { } // host page cache choices; the vbd backend decides its own I/O path
                default -> throw fail(d, "<driver " + a.getKey() + "=...> has no vbd equivalent "
                        + "(understood: name, type, queues, discard, cache, io)");
            }
        }
        if (features.length() > 0) {
            spec.append(",features=").append(features.substring(1));
        }
        return spec.toString();
    }

    private String onOff(XmlElement e, String attr, String v) {
        return switch (v) {
            case "on" -> "1";
            case "off" -> "0";
            default -> throw fail(e, attr + "='" + v + "' is not on or off");
        };
    }

    private String required(XmlElement e, String attr) {
        return e.attr(attr).orElseThrow(() -> fail(e, "<" + e.name() + "> needs " + attr + "="));
    }

    private long number(XmlElement e, String what, String text, long min, long max) {
        try {
            long n = Long.parseLong(text.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ex) {
            // fall through
        }
        throw fail(e, what + " '" + text + "' is not a number from " + min + " to " + max);
    }

    private ConfigException fail(XmlElement e, String reason) {
        return new ConfigException(source, e.line(), "<" + e.name() + ">: " + reason);
    }
}
