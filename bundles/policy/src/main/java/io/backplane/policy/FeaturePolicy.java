package io.backplane.policy;

import io.backplane.api.device.CapabilityRegistry;
import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.device.NegotiationListener;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.device.RequestOutcome;
import io.backplane.api.device.RequestStatus;
import io.backplane.api.xenstore.XenStore;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The negotiation policy service. Holds the admin rules from ConfigAdmin ({@code io.backplane.policy});
 * a rule set that does not parse is refused as a whole and the previous one stays in force,
 * because half a policy (say, losing "no persistent grants for domain 7") is worse than none changing.
 */
@Component(service = {NegotiationPolicy.class, FeaturePolicy.class}, configurationPid = "io.backplane.policy",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = PolicyConfig.class)
public class FeaturePolicy implements NegotiationPolicy {

    record Listener(NegotiationListener listener, Object deviceType) {
    }

    /** How long a negotiation waits for its device type's capabilities (see {@link #awaitCapabilities}). */
    static final Duration CAPABILITIES_WAIT = Duration.ofSeconds(5);

    private final CapabilityRegistry registry;
    private final Logger log;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile PolicyRules rules = PolicyRules.NONE;
    /** Device types whose rules were checked against the registered capabilities. */
    private final Set<String> checkedTypes = ConcurrentHashMap.newKeySet();
    private volatile int backendDomid;
    private final FeatureNegotiator negotiator;

    /** Services and the configuration through the constructor (DS 1.4): tests build it the same way. */
    @Activate
    public FeaturePolicy(@Reference(name = "xenStore") XenStore xenStore,
                         @Reference(name = "registry") CapabilityRegistry registry,
                         @Reference(name = "log", service = LoggerFactory.class) Logger log, PolicyConfig config) {
        this.registry = registry;
        this.log = log;
        this.negotiator = new FeatureNegotiator(xenStore, registry);
        apply(config);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addListener(NegotiationListener l, Map<String, Object> props) {
        listeners.add(new Listener(l, props.get(DeviceCapabilities.DEVICE_TYPE)));
    }

    void removeListener(NegotiationListener l) {
        listeners.removeIf(x -> x.listener() == l);
    }

    @Modified
    void modified(PolicyConfig config) {
        if (apply(config)) {
            renegotiateLiveDevices();
        }
    }

    private boolean apply(PolicyConfig config) {
        backendDomid = config.backendDomid();
        PolicyRules parsed;
        try {
            parsed = PolicyRules.parse(config.rules());
        } catch (IllegalArgumentException e) {
            log.error("Feature policy not changed, {}; the previous {} rule(s) stay in force",
                    e.getMessage(), rules.rules().size());
            return false;
        }
        rules = parsed;
        log.info("Feature policy: {} rule(s) in force", parsed.rules().size());
        checkedTypes.clear();
        Set<String> known = registry.deviceTypes();
        checkedTypes.addAll(known);
        // A rule for a type no backend has registered yet (its bundle starts after the policy)
        // is checked at that type's first negotiation instead of being reported as unknown now.
        report(parsed, t -> "*".equals(t) || known.contains(t));
        return true;
    }

    private void report(PolicyRules checked, java.util.function.Predicate<String> ofType) {
        checked.problems(registry::find, registry.deviceTypes(), ofType).forEach(p -> log.warn("Feature policy: {}", p));
    }

    @Override
    public Negotiation negotiate(DeviceId device) {
        awaitCapabilities(device.type());
        PolicyRules current = rules;
        if (checkedTypes.add(device.type())) {
            report(current, device.type()::equals);
        }
        Negotiation n = negotiator.negotiate(device, current);
        for (RequestOutcome o : n.outcomes()) {
            if (o.status() == RequestStatus.ACCEPTED) {
                log.info("{}: {} = {} as requested", device, o.feature(), o.effectiveValue());
            } else {
                log.warn("{}: request {} = {} {}: {}", device, o.requestedAs(), o.requestedValue(),
                        o.status().word(), o.reason());
            }
        }
        return n;
    }

    /**
     * A backend bundle registers its capabilities and its driver as two services, the driver
     * only once the capabilities are there; but the backend core can bind the driver and probe a
     * device before this registry's own listener has heard of the capabilities (listeners of one
     * service event run in no set order: seen when blkback was updated under a guest, whose disk
     * then failed for good). A probe waits for them, briefly, instead of failing the device.
     */
    private void awaitCapabilities(String deviceType) {
        long deadline = System.nanoTime() + CAPABILITIES_WAIT.toNanos();
        while (registry.features(deviceType).isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return; // the negotiation then fails with "no backend capabilities registered"
            }
        }
    }

    @Override
    public Negotiation preview(DeviceId device) {
        return negotiator.preview(device, rules);
    }

    /** The rules in force, as written (for the shell). */
    public List<String> rules() {
        return rules.rules().stream().map(PolicyRule::text).toList();
    }

    /** After a policy edit: every device whose offer is live gets the new decision, and its backend hears of it. */
    private void renegotiateLiveDevices() {
        for (DeviceId device : negotiator.liveDevices(backendDomid)) {
            try {
                Negotiation n = negotiate(device);
                if (n.changed().isEmpty()) {
                    continue;
                }
                log.info("{}: policy change altered {}{}", device, n.changed(),
                        n.needsReconnect() ? "; the frontend must reconnect to use it" : "");
                for (Listener l : listeners) {
                    if (l.deviceType() == null || device.type().equals(l.deviceType())) {
                        l.listener().offerChanged(n);
                    }
                }
            } catch (RuntimeException e) {
                // One device going away mid-way must not stop the others from getting the new policy.
                log.warn("{}: not re-negotiated after the policy change: {}", device, e.getMessage());
            }
        }
    }
}
