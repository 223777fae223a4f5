package io.backplane.policy;

import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.backend.XenbusState;
import io.backplane.api.device.CapabilityRegistry;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.device.Negotiation;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsOps;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs one negotiation: snapshot the device's requests, decide, write the answer, all in one
 * XenStore transaction so a request written meanwhile makes the commit retry rather than vanish.
 * Public for tests in other modules only: the package is private to the bundle.
 */
public final class FeatureNegotiator {

    /** Backend states in which a device has been probed and its offer is live (InitWait..Connected). */
    private static final Set<String> LIVE_STATES = Set.of(XenbusState.INIT_WAIT.wire(),
            XenbusState.INITIALISED.wire(), XenbusState.CONNECTED.wire());

    private final XenStore xenStore;
    private final CapabilityRegistry registry;
    private final FeatureDecider decider = new FeatureDecider();
    private final FeatureControlStore store = new FeatureControlStore();

    public FeatureNegotiator(XenStore xenStore, CapabilityRegistry registry) {
        this.xenStore = xenStore;
        this.registry = registry;
    }

    public Negotiation negotiate(DeviceId device, PolicyRules rules) {
        return xenStore.transaction(tx -> decide(tx, device, rules, true));
    }

    public Negotiation preview(DeviceId device, PolicyRules rules) {
        return xenStore.transaction(tx -> decide(tx, device, rules, false));
    }

    private Negotiation decide(XsOps tx, DeviceId device, PolicyRules rules, boolean write) {
        List<FeatureDescriptor> features = registry.features(device.type());
        if (features.isEmpty()) {
            throw new IllegalArgumentException("no backend capabilities registered for device type '"
                    + device.type() + "' (device " + device + ")");
        }
        List<String> keys = features.stream().map(FeatureDescriptor::key).toList();
        FeatureControlStore.Snapshot before = store.read(tx, device, keys);
        if (!before.exists()) {
            throw new IllegalArgumentException("device " + device + " has no backend directory "
                    + device.backendPath());
        }
        FeatureDecider.Decision d = decider.decide(device, before.domainName(), features, rules, before.requests());
        if (write) {
            store.write(tx, device, d, before);
        }
        Set<String> changed = new HashSet<>();
        boolean reconnect = false;
        for (FeatureDescriptor f : features) {
            String old = before.published().get(f.key());
            if (old != null && !old.equals(d.offer().get(f.key()))) {
                changed.add(f.key());
                reconnect |= f.needsReconnect();
            }
        }
        return new Negotiation(device, d.offer(), d.outcomes(), changed, reconnect);
    }

    /** Devices of every known type under {@code backendDomid} whose backend has published an offer. */
    public List<DeviceId> liveDevices(int backendDomid) {
        List<DeviceId> out = new ArrayList<>();
        for (String type : registry.deviceTypes()) {
            String base = "/local/domain/" + backendDomid + "/backend/" + type;
            for (String fe : children(base)) {
                for (String devid : children(base + "/" + fe)) {
                    String state = xenStore.tryRead(base + "/" + fe + "/" + devid + "/" + XenbusKeys.STATE).orElse("");
                    if (LIVE_STATES.contains(state) && fe.matches("\\d+") && devid.matches("\\d+")) {
                        out.add(new DeviceId(backendDomid, type, Integer.parseInt(fe), Integer.parseInt(devid)));
                    }
                }
            }
        }
        return out;
    }

    private List<String> children(String path) {
        return xenStore.exists(path) ? xenStore.directory(path) : List.of();
    }
}
