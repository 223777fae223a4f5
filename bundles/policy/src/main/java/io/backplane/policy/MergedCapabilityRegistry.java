package io.backplane.policy;

import io.backplane.api.device.CapabilityRegistry;
import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.FeatureDescriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Merges every registered {@link DeviceCapabilities}: per device type and feature key, the
 * registration with the highest {@code service.ranking} wins (then the oldest service).
 * Backends come and go at runtime, so the merge is computed on each question.
 */
@Component
public class MergedCapabilityRegistry implements CapabilityRegistry {

    record Contribution(DeviceCapabilities capabilities, int ranking, long serviceId) {
    }

    private final List<Contribution> contributions = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addCapabilities(DeviceCapabilities capabilities, Map<String, Object> props) {
        Object r = props.get("service.ranking");
        Object id = props.get("service.id");
        contributions.add(new Contribution(capabilities, r instanceof Integer i ? i : 0,
                id instanceof Long l ? l : Long.MAX_VALUE));
    }

    void removeCapabilities(DeviceCapabilities capabilities) {
        contributions.removeIf(c -> c.capabilities() == capabilities);
    }

    @Override
    public Set<String> deviceTypes() {
        Set<String> types = new TreeSet<>();
        contributions.forEach(c -> types.add(c.capabilities().deviceType()));
        return types;
    }

    @Override
    public List<FeatureDescriptor> features(String deviceType) {
        List<Contribution> ordered = new ArrayList<>(contributions);
        // Best first: the first registration to name a key keeps it.
        ordered.sort(Comparator.comparingInt(Contribution::ranking).reversed()
                .thenComparingLong(Contribution::serviceId));
        Map<String, FeatureDescriptor> byKey = new LinkedHashMap<>();
        for (Contribution c : ordered) {
            if (c.capabilities().deviceType().equals(deviceType)) {
                for (FeatureDescriptor f : c.capabilities().features()) {
                    byKey.putIfAbsent(f.key(), f);
                }
            }
        }
        return byKey.values().stream().sorted(Comparator.comparing(FeatureDescriptor::key)).toList();
    }

    @Override
    public Optional<FeatureDescriptor> find(String deviceType, String name) {
        List<FeatureDescriptor> all = features(deviceType);
        // An exact key beats an alias, should one backend's alias be another feature's key.
        return all.stream().filter(f -> f.key().equals(name)).findFirst()
                .or(() -> all.stream().filter(f -> f.answersTo(name)).findFirst());
    }
}
