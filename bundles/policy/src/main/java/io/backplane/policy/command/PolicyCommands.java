package io.backplane.policy.command;

import io.backplane.api.device.CapabilityRegistry;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.RequestOutcome;
import io.backplane.api.xenstore.XenStore;
import io.backplane.policy.FeaturePolicy;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import java.util.List;
import org.osgi.service.component.annotations.Activate;

/** {@code policy:features}, {@code policy:rules}, {@code policy:check}: what may be asked, what is allowed, what a device would get. */
@Component(service = PolicyCommands.class, property = {"osgi.command.scope=policy",
        "osgi.command.function=features", "osgi.command.function=rules", "osgi.command.function=check"})
public class PolicyCommands {

    private final CapabilityRegistry registry;
    private final FeaturePolicy policy;
    private final XenStore xenStore;

    @Activate
    public PolicyCommands(@Reference(name = "registry") CapabilityRegistry registry,
                          @Reference(name = "policy") FeaturePolicy policy, @Reference(name = "xenStore") XenStore xenStore) {
        this.registry = registry;
        this.policy = policy;
        this.xenStore = xenStore;
    }

    @Descriptor("list the features every backend type can offer")
    public String features() {
        StringBuilder b = new StringBuilder();
        for (String type : registry.deviceTypes()) {
            b.append(features(type)).append('\n');
        }
        return b.toString().stripTrailing();
    }

    @Descriptor("list the features one backend type can offer")
    public String features(@Descriptor("device type, e.g. vif or vbd") String type) {
        List<FeatureDescriptor> all = registry.features(type);
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no backend capabilities for device type '" + type
                    + "' (known: " + String.join(", ", registry.deviceTypes()) + ")");
        }
        StringBuilder b = new StringBuilder(String.format("%-4s %-34s %-8s %-8s %-9s %s%n",
                "type", "feature", "kind", "default", "range", "aliases"));
        for (FeatureDescriptor f : all) {
            String range = switch (f.type()) {
                case BOOL -> "0|1";
                case RANGE -> f.min() + ".." + f.max();
                case ENUM -> String.join("|", f.allowedValues());
            };
            b.append(String.format("%-4s %-34s %-8s %-8s %-9s %s%n", type, f.key(), f.type().name().toLowerCase(),
                    f.defaultValue(), range, String.join(", ", f.aliases())));
        }
        return b.toString().stripTrailing();
    }

    @Descriptor("list the admin rules in force (configuration io.backplane.policy, property rules)")
    public String rules() {
        List<String> r = policy.rules();
        return r.isEmpty() ? "No rules: every backend offers its defaults and accepts any valid request."
                : String.join("\n", r);
    }

    @Descriptor("show what a device would be offered now and what becomes of its requests; writes nothing")
    public String check(@Descriptor("device as DOMAIN/TYPE/DEVID, DOMAIN a name or id, e.g. web/vif/0 or 3/vbd/51712")
                        String device) {
        Negotiation n = policy.preview(parse(device));
        StringBuilder b = new StringBuilder("offer:\n");
        n.offer().forEach((k, v) -> b.append(String.format("  %-34s %s%n", k, v)));
        if (n.outcomes().isEmpty()) {
            b.append("no requests");
        } else {
            b.append("requests:\n");
            for (RequestOutcome o : n.outcomes()) {
                b.append(String.format("  %-34s %-6s %-9s%s%n", o.requestedAs(), o.requestedValue(), o.status().word(),
                        o.reason().isEmpty() ? "" : " " + o.reason()));
            }
        }
        return b.toString().stripTrailing();
    }

    private DeviceId parse(String device) {
        String[] p = device.split("/");
        if (p.length != 3 || !p[2].matches("\\d+")) {
            throw new IllegalArgumentException("'" + device + "' is not DOMAIN/TYPE/DEVID, e.g. web/vif/0");
        }
        return new DeviceId(0, p[1], domid(p[0]), Integer.parseInt(p[2]));
    }

    private int domid(String dom) {
        if (dom.matches("\\d+")) {
            return Integer.parseInt(dom);
        }
        for (String id : xenStore.directory("/local/domain")) {
            if (xenStore.tryRead("/local/domain/" + id + "/name").map(dom::equals).orElse(false)) {
                return Integer.parseInt(id);
            }
        }
        throw new IllegalArgumentException("no domain named " + dom);
    }
}
