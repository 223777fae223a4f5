package io.backplane.backend.command;

import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.StrategySwap;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.device.CapabilityRegistry;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureControlLayout;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.RequestOutcome;
import io.backplane.api.device.RequestSource;
import io.backplane.api.device.RequestStatus;
import io.backplane.api.xenstore.XenStore;
import io.backplane.backend.DeviceRegistry;
import io.backplane.backend.DeviceView;
import io.backplane.backend.RingStrategyRegistry;
import io.backplane.api.backend.XenbusState;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/** The {@code pv:} scope: the PV devices this backend serves, their features, live requests. */
@Component(service = PvCommands.class, property = {
        "osgi.command.scope=pv",
        "osgi.command.function=devices",
        "osgi.command.function=show",
        "osgi.command.function=request",
        "osgi.command.function=strategies",
        "osgi.command.function=strategy",
        "osgi.command.function=policy"})
public class PvCommands {

    /** How long pv:request waits for the backend's answer. */
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);

    /** Which frontend key says what the frontend took of a backend feature (netfront/blkfront). */
    private static final Map<String, String> FRONTEND_KEY = Map.of(
            XenbusKeys.MULTI_QUEUE_MAX_QUEUES, XenbusKeys.MULTI_QUEUE_NUM_QUEUES,
            XenbusKeys.MAX_RING_PAGE_ORDER, XenbusKeys.RING_PAGE_ORDER,
            NetifKeys.FEATURE_RX_COPY, NetifKeys.REQUEST_RX_COPY,
            NetifKeys.FEATURE_SPLIT_EVENT_CHANNELS, NetifKeys.EVENT_CHANNEL_TX);

    private final DeviceRegistry registry;
    private final XenStore xenStore;
    private final CapabilityRegistry capabilities;
    private final RingStrategyRegistry strategies;
    private final DeviceNames names;

    /** Optional: pv:policy shows the configured rules when there is one. */
    private final AtomicReference<ConfigurationAdmin> configAdmin = new AtomicReference<>();

    @Activate
    public PvCommands(@Reference DeviceRegistry registry, @Reference XenStore xenStore,
                      @Reference CapabilityRegistry capabilities, @Reference RingStrategyRegistry strategies) {
        this.registry = registry;
        this.xenStore = xenStore;
        this.capabilities = capabilities;
        this.strategies = strategies;
        this.names = new DeviceNames(xenStore, registry);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindConfigAdmin(ConfigurationAdmin admin) {
        configAdmin.set(admin);
    }

    void unbindConfigAdmin(ConfigurationAdmin admin) {
        configAdmin.compareAndSet(admin, null);
    }

    @Descriptor("list the PV devices the backends serve: state, ring strategy, queues, ring order, key features")
    public String devices() {
        Table t = new Table("DOMAIN", "TYPE", "DEVID", "STATE", "FRONTEND", "STRATEGY", "QUEUES", "ORDER", "FEATURES");
        for (DeviceView v : registry.devices()) {
            Map<String, String> s = v.status();
            t.row(names.domainName(v.id().frontendDomid()), v.id().type(), v.id().devid(), stateName(v.backend()),
                    stateName(v.frontend()), first(s, BackendDevice.STATUS_STRATEGY), s.get(BackendDevice.STATUS_QUEUES),
                    first(s, BackendDevice.STATUS_RING_ORDER), keyFeatures(v));
        }
        return t.size() == 0 ? "no PV devices (xl:create makes some)" : t.toString();
    }

    @Descriptor("show one device: requested, published and negotiated value of each feature, and the driver's counters")
    public String show(@Descriptor("the device, DOMAIN/TYPE/DEVID with the domain's name or id, e.g. guest1/vif/0") String dev) {
        DeviceView v = names.resolve(dev);
        DeviceId id = v.id();
        String be = id.backendPath();
        String fe = names.read(be + "/" + XenbusKeys.FRONTEND).orElse(id.frontendPath());
        StringBuilder out = new StringBuilder();
        out.append(names.display(id)).append(" (domain ").append(id.frontendDomid()).append(", ").append(be).append(")\n");
        out.append("  backend ").append(stateName(v.backend())).append(", frontend ").append(stateName(v.frontend())).append('\n');
        v.lastError().ifPresent(e -> out.append("  last error: ").append(e).append('\n'));

        Set<String> features = new LinkedHashSet<>();
        v.negotiation().ifPresent(n -> features.addAll(new TreeMap<>(n.offer()).keySet()));
        features.addAll(children(be + "/" + FeatureControlLayout.CONTROL_DIR));
        Table t = new Table("FEATURE", "REQUESTED", "STATUS", "PUBLISHED", "FRONTEND");
        StringBuilder reasons = new StringBuilder();
        for (String f : features) {
            String control = be + "/" + FeatureControlLayout.CONTROL_DIR + "/" + f + "/";
            String frontendKey = FRONTEND_KEY.getOrDefault(f, f);
            String taken = names.read(fe + "/" + frontendKey).or(() -> names.read(fe + "/" + XenbusKeys.queueDir(0) + "/" + frontendKey))
                    .map(x -> frontendKey + "=" + x).orElse(null);
            t.row(f, names.read(control + FeatureControlLayout.REQUESTED).orElse(null),
                    names.read(control + FeatureControlLayout.STATUS).orElse(null),
                    names.read(be + "/" + f).orElse(null), taken);
            names.read(control + FeatureControlLayout.REASON)
                    .ifPresent(r -> reasons.append("  ").append(f).append(": ").append(r).append('\n'));
        }
        out.append(t).append('\n');
        out.append(reasons);
        if (!v.status().isEmpty()) {
            out.append("status:\n");
            new TreeMap<>(v.status()).forEach((k, x) -> out.append("  ").append(k).append(" = ").append(x).append('\n'));
        }
        return out.toString().stripTrailing();
    }

    @Descriptor("ask for a feature value on a live device, as the toolstack does with request-<feature>; "
            + "the policy decides, and a change that needs it reconnects the device")
    public String request(@Descriptor("the device, DOMAIN/TYPE/DEVID, e.g. guest1/vif/0") String dev,
                          @Descriptor("the feature's Xen key or alias, e.g. multi-queue-max-queues or queues") String feature,
                          @Descriptor("the value asked for, e.g. 2, 0/1 for on/off features") String value) {
        DeviceView v = names.resolve(dev);
        FeatureDescriptor descriptor = capabilities.find(v.id().type(), feature).orElseThrow(() ->
                new IllegalArgumentException(v.id().type() + " has no feature '" + feature + "'; known: "
                        + capabilities.features(v.id().type()).stream().map(FeatureDescriptor::key)
                        .collect(Collectors.joining(" "))));
        if (!value.matches("[A-Za-z0-9_.|-]{1,64}")) {
            throw new IllegalArgumentException("'" + value + "' is not a feature value");
        }
        // Under the Xen key, as the toolstack writes requests, whatever alias the operator typed.
        String key = descriptor.key();
        Negotiation n = registry.request(v.id(), key, value, ANSWER_TIMEOUT);
        RequestOutcome o = n.outcomes().stream()
                .filter(x -> x.source() == RequestSource.REQUEST_KEY && x.requestedAs().equals(key)).findFirst()
                .orElseThrow(() -> new IllegalStateException("the policy did not answer request-" + key));
        String control = v.id().backendPath() + "/" + FeatureControlLayout.CONTROL_DIR + "/" + o.feature() + "/";
        String status = names.read(control + FeatureControlLayout.STATUS).orElse(o.status().word());
        String reason = names.read(control + FeatureControlLayout.REASON).orElse(o.reason());
        StringBuilder out = new StringBuilder(names.display(v.id())).append(": ").append(descriptor.key())
                .append(' ').append(value).append(' ').append(status);
        // A rejected request leaves the default, which may differ from what an earlier request set.
        if (o.status() != RequestStatus.REJECTED) {
            out.append(", published ").append(o.effectiveValue());
        } else if (n.changed().contains(o.feature())) {
            out.append(", the default ").append(o.effectiveValue()).append(" published instead");
        }
        if (!reason.isEmpty()) {
            out.append(" (").append(reason).append(')');
        }
        if (n.needsReconnect() && v.backend() == XenbusState.CONNECTED) {
            out.append("; the device reconnects to apply it");
        } else if (n.changed().isEmpty() && o.status() != RequestStatus.REJECTED) {
            out.append("; nothing changed");
        }
        return out.toString();
    }

    @Descriptor("list the registered ring strategies, best ranked first")
    public String strategies() {
        Table t = new Table("STRATEGY", "RANKING", "SERVICE");
        strategies.registered().forEach(r -> t.row(r.name(), r.ranking(), r.serviceId()));
        return t.size() == 0 ? "no ring strategy registered: no device can connect" : t.toString();
    }

    @Descriptor("hot swap: move every ring of a connected device to the fittest registered ring strategy, live "
            + "(no reconnect, no request lost)")
    public String strategy(@Descriptor("the device, DOMAIN/TYPE/DEVID, e.g. guest1/vbd/51712") String dev) {
        return swap(dev, null);
    }

    @Descriptor("hot swap: move every ring of a connected device to the named ring strategy, live (no reconnect, "
            + "no request lost); it must fit the features the rings negotiated (persistent needs feature-persistent)")
    public String strategy(@Descriptor("the device, DOMAIN/TYPE/DEVID, e.g. guest1/vbd/51712") String dev,
                           @Descriptor("a strategy of pv:strategies, e.g. grant-copy, persistent, map-batched-unmap") String name) {
        if (strategies.registered().stream().noneMatch(r -> r.name().equals(name))) {
            throw new IllegalArgumentException("no ring strategy named '" + name + "'; registered: "
                    + strategies.registered().stream().map(RingStrategyRegistry.Registered::name).collect(Collectors.joining(" ")));
        }
        return swap(dev, name);
    }

    private String swap(String dev, String name) {
        DeviceView v = names.resolve(dev);
        String label = names.display(v.id());
        List<StrategySwap> done;
        try {
            done = registry.swapStrategy(v.id(), name, ANSWER_TIMEOUT);
        } catch (DeviceException e) {
            throw new IllegalArgumentException(label + ": " + e.getMessage());
        }
        return done.stream().map(d -> label + " " + d.describe()).collect(Collectors.joining("\n"));
    }

    @Descriptor("show the admin feature policy in force (ConfigAdmin pid io.backplane.policy)")
    public String policy() throws Exception {
        ConfigurationAdmin ca = configAdmin.get();
        if (ca == null) {
            throw new IllegalStateException("ConfigAdmin is not running; the policy has its defaults");
        }
        Configuration[] configs = ca.listConfigurations("(service.pid=io.backplane.policy)");
        Object rules = configs == null || configs.length == 0 || configs[0].getProperties() == null ? null
                : configs[0].getProperties().get("rules");
        String[] list = rules instanceof String[] a ? a : rules instanceof String s ? new String[]{s} : new String[0];
        if (list.length == 0) {
            return "no admin rules: every device is offered the backend defaults (edit pid io.backplane.policy, "
                    + "property rules, e.g. 'vif queues max=4')";
        }
        StringBuilder out = new StringBuilder(list.length + (list.length == 1 ? " rule" : " rules") + " in force:\n");
        for (String r : list) {
            out.append("  ").append(r).append('\n');
        }
        return out.toString().stripTrailing();
    }

    /** A status key of the device, or of its first queue when the driver reports it per queue. */
    private static String first(Map<String, String> status, String key) {
        String v = status.get(key);
        return v != null ? v : status.get("queue-0/" + key);
    }

    /**
     * The driver's own summary, else the features it reports as negotiated ({@code feature-x=1}
     * in its status), else what the policy offered.
     */
    private String keyFeatures(DeviceView v) {
        String reported = v.status().get(BackendDevice.STATUS_FEATURES);
        if (reported != null) {
            return reported;
        }
        Map<String, String> source = v.status().keySet().stream().anyMatch(k -> k.startsWith("feature-"))
                ? v.status() : v.negotiation().map(Negotiation::offer).orElse(Map.of());
        return new TreeMap<>(source).entrySet().stream()
                .filter(e -> e.getKey().startsWith("feature-") && "1".equals(e.getValue()))
                .map(e -> e.getKey().substring("feature-".length()))
                .collect(Collectors.joining(" "));
    }

    private java.util.List<String> children(String path) {
        return xenStore.exists(path) ? xenStore.directory(path) : java.util.List.of();
    }

    static String stateName(XenbusState s) {
        return s.displayName();
    }
}
