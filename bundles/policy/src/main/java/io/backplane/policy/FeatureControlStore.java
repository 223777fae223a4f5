package io.backplane.policy;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureControlLayout;
import io.backplane.api.device.RequestOutcome;
import io.backplane.api.device.RequestSource;
import io.backplane.api.device.RequestStatus;
import io.backplane.api.xenstore.XsOps;
import io.backplane.api.xenstore.XsPerm;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.backplane.api.device.FeatureControlLayout.CONTROL_DIR;
import static io.backplane.api.device.FeatureControlLayout.REQUEST_PREFIX;
import static io.backplane.api.device.FeatureControlLayout.REQUIRE_DIR;

/**
 * The XenStore side of feature control: reads the requests of one device and writes the
 * policy's answer, always inside the caller's transaction (layout: docs/feature-control.md).
 */
final class FeatureControlStore {

    /** What the backend directory holds before the decision. */
    record Snapshot(boolean exists, Optional<String> domainName, List<FeatureRequest> requests,
                    Map<String, String> published) {
    }

    Snapshot read(XsOps tx, DeviceId device, Collection<String> featureKeys) {
        String be = device.backendPath();
        if (!tx.exists(be)) {
            return new Snapshot(false, Optional.empty(), List.of(), Map.of());
        }
        List<String> children = tx.directory(be);
        List<FeatureRequest> requests = new ArrayList<>();
        for (String name : children) {
            if (name.startsWith(REQUEST_PREFIX) && name.length() > REQUEST_PREFIX.length()) {
                tx.tryRead(be + "/" + name).ifPresent(v -> requests.add(
                        new FeatureRequest(name.substring(REQUEST_PREFIX.length()), v, RequestSource.REQUEST_KEY)));
            }
        }
        if (children.contains(REQUIRE_DIR)) {
            for (String name : tx.directory(be + "/" + REQUIRE_DIR)) {
                tx.tryRead(be + "/" + REQUIRE_DIR + "/" + name).ifPresent(v -> requests.add(
                        new FeatureRequest(name, v, RequestSource.REQUIRE_DIR)));
            }
        }
        if (children.contains(CONTROL_DIR)) {
            for (String name : tx.directory(be + "/" + CONTROL_DIR)) {
                tx.tryRead(be + "/" + CONTROL_DIR + "/" + name + "/" + FeatureControlLayout.REQUESTED)
                        .ifPresent(v -> requests.add(new FeatureRequest(name, v, RequestSource.RECORDED)));
            }
        }
        Map<String, String> published = new HashMap<>();
        for (String key : featureKeys) {
            if (children.contains(key)) {
                tx.tryRead(be + "/" + key).ifPresent(v -> published.put(key, v));
            }
        }
        Optional<String> name = tx.tryRead("/local/domain/" + device.frontendDomid() + "/name");
        return new Snapshot(true, name, requests, published);
    }

    /**
     * Publishes the offer (only keys whose value changes, so watchers see real changes only),
     * records every outcome and removes the request keys that were accepted: the acknowledgement.
     */
    void write(XsOps tx, DeviceId device, FeatureDecider.Decision decision, Snapshot before) {
        String be = device.backendPath();
        decision.offer().forEach((key, value) -> {
            if (!value.equals(before.published().get(key))) {
                tx.write(be + "/" + key, value);
            }
        });
        if (decision.outcomes().isEmpty()) {
            return;
        }
        String control = be + "/" + CONTROL_DIR;
        if (!tx.exists(control)) {
            tx.mkdir(control);
            // Only the toolstack and the backend read the answers, as with the requests.
            tx.setPerms(control, List.of(XsPerm.none(device.backendDomid())));
        }
        java.util.Set<String> recorded = new java.util.HashSet<>();
        for (RequestOutcome o : decision.outcomes()) {
            if (!recorded.add(o.feature())) {
                continue; // a duplicate: the winning request, listed first, owns the record
            }
            String dir = control + "/" + o.feature();
            tx.write(dir + "/" + FeatureControlLayout.REQUESTED, o.requestedValue());
            tx.write(dir + "/" + FeatureControlLayout.STATUS, o.status().word());
            tx.write(dir + "/" + FeatureControlLayout.VALUE, o.effectiveValue());
            if (o.reason().isEmpty()) {
                tx.rm(dir + "/" + FeatureControlLayout.REASON);
            } else {
                tx.write(dir + "/" + FeatureControlLayout.REASON, o.reason());
            }
            if (o.status() == RequestStatus.ACCEPTED) {
                acknowledge(tx, be, o);
            }
        }
    }

    private static void acknowledge(XsOps tx, String be, RequestOutcome o) {
        // The request may have been written under an alias: remove the key that was really there.
        switch (o.source()) {
            case REQUEST_KEY -> tx.rm(be + "/" + REQUEST_PREFIX + o.requestedAs());
            case REQUIRE_DIR -> tx.rm(be + "/" + REQUIRE_DIR + "/" + o.requestedAs());
            case RECORDED -> { }
        }
    }
}
