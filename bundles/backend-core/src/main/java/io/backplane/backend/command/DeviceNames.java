package io.backplane.backend.command;

import io.backplane.api.device.DeviceId;
import io.backplane.api.xenstore.XenStore;
import io.backplane.backend.DeviceRegistry;
import io.backplane.backend.DeviceView;

import java.util.List;
import java.util.Optional;

/** The shell's device names, {@code DOMAIN/TYPE/DEVID} with the domain's name or id. */
final class DeviceNames {
    private final XenStore xenStore;
    private final DeviceRegistry registry;

    DeviceNames(XenStore xenStore, DeviceRegistry registry) {
        this.xenStore = xenStore;
        this.registry = registry;
    }

    /** The device {@code name} denotes; IllegalArgumentException in one line otherwise. */
    DeviceView resolve(String name) {
        String[] p = name.split("/", -1);
        if (p.length != 3 || p[0].isEmpty() || p[1].isEmpty() || p[2].isEmpty()) {
            throw new IllegalArgumentException("'" + name + "' is not a device: write DOMAIN/TYPE/DEVID, e.g. guest1/vif/0 or 3/vbd/51712");
        }
        if (!p[2].matches("\\d{1,9}")) {
            throw new IllegalArgumentException("'" + p[2] + "' is not a device id: vifs count from 0, vbds use the "
                    + "encoded virtual device (51712 for xvda)");
        }
        int domid = domid(p[0]);
        int devid = Integer.parseInt(p[2]);
        return registry.devices().stream()
                .filter(v -> v.id().frontendDomid() == domid && v.id().type().equals(p[1]) && v.id().devid() == devid)
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown device " + name + " (pv:devices lists them)"));
    }

    private int domid(String domain) {
        if (domain.matches("\\d{1,5}")) {
            return Integer.parseInt(domain);
        }
        for (String id : children("/local/domain")) {
            if (id.matches("\\d{1,5}") && domain.equals(xenStore.tryRead("/local/domain/" + id + "/name").orElse(null))) {
                return Integer.parseInt(id);
            }
        }
        throw new IllegalArgumentException("no domain named '" + domain + "' (xl:list lists them)");
    }

    /** The domain's name, or its id when it has none. */
    String domainName(int domid) {
        return xenStore.tryRead("/local/domain/" + domid + "/name").orElse(Integer.toString(domid));
    }

    /** {@code guest1/vif/0}. */
    String display(DeviceId id) {
        return domainName(id.frontendDomid()) + "/" + id.type() + "/" + id.devid();
    }

    private List<String> children(String path) {
        return xenStore.exists(path) ? xenStore.directory(path) : List.of();
    }

    Optional<String> read(String path) {
        return xenStore.tryRead(path);
    }
}
