package io.backplane.policy;

import io.backplane.api.device.DeviceId;
import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.device.FeatureType;
import io.backplane.api.device.RequestOutcome;
import io.backplane.api.device.RequestSource;
import io.backplane.api.device.RequestStatus;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The pure decision: given what a backend type can offer, the admin rules and the requests
 * found for one device, which value to publish per feature and what became of each request.
 * No XenStore here (see {@link FeatureControlStore}), so every rule is unit-testable.
 *
 * <p>Capability bounds and policy limits are treated differently on purpose: a value the
 * backend cannot do at all is a bad request (rejected), a value the admin chose to limit is
 * clamped to the limit, and an on/off feature the admin denied is rejected as forbidden.
 */
final class FeatureDecider {

    /** The offer (feature key -> value, sorted) and one outcome per request, by feature. */
    record Decision(Map<String, String> offer, List<RequestOutcome> outcomes) {
    }

    Decision decide(DeviceId device, Optional<String> domainName, List<FeatureDescriptor> features,
                    PolicyRules rules, List<FeatureRequest> requests) {
        Map<String, PolicyRules.FeatureLimits> limits = new HashMap<>();
        Map<String, String> offer = new TreeMap<>();
        for (FeatureDescriptor f : features) {
            PolicyRules.FeatureLimits l = rules.limitsFor(f, device.type(), device.frontendDomid(), domainName);
            limits.put(f.key(), l);
            offer.put(f.key(), effectiveDefault(f, l));
        }

        List<RequestOutcome> outcomes = new ArrayList<>();
        Map<String, FeatureRequest> winners = new HashMap<>();
        List<FeatureRequest> ordered = new ArrayList<>(requests);
        // request-<f> beats require/<f> beats a recorded earlier request; the Xen key beats an alias.
        ordered.sort(Comparator.comparingInt((FeatureRequest r) -> r.source().ordinal())
                .thenComparing(r -> features.stream().anyMatch(f -> f.key().equals(r.name())) ? 0 : 1));
        for (FeatureRequest r : ordered) {
            Optional<FeatureDescriptor> f = features.stream().filter(d -> d.answersTo(r.name())).findFirst();
            if (f.isEmpty()) {
                if (r.source() != RequestSource.RECORDED) {
                    outcomes.add(new RequestOutcome(r.name(), r.name(), r.value(), r.source(), RequestStatus.REJECTED, "",
                            "the " + device.type() + " backend has no feature named '" + r.name() + "'"));
                }
                continue;
            }
            FeatureDescriptor d = f.get();
            FeatureRequest winner = winners.putIfAbsent(d.key(), r);
            if (winner != null) {
                if (r.source() != RequestSource.RECORDED) {
                    outcomes.add(new RequestOutcome(d.key(), r.name(), r.value(), r.source(), RequestStatus.REJECTED,
                            offer.get(d.key()), "duplicate request for " + d.key() + "; the one named '"
                            + winner.name() + "' (" + winner.source().name().toLowerCase(Locale.ROOT) + ") is used"));
                }
                continue;
            }
            RequestOutcome o = decideOne(device, d, limits.get(d.key()), offer.get(d.key()), r);
            outcomes.add(o);
            if (o.status() != RequestStatus.REJECTED) {
                offer.put(d.key(), o.effectiveValue());
            }
        }
        // Stable sort: per feature the winning request (decided first) stays first.
        outcomes.sort(Comparator.comparing(RequestOutcome::feature));
        return new Decision(offer, outcomes);
    }

    private RequestOutcome decideOne(DeviceId device, FeatureDescriptor f, PolicyRules.FeatureLimits l,
                                     String fallback, FeatureRequest r) {
        Optional<String> bad = capabilityProblem(device.type(), f, r.value());
        if (bad.isPresent()) {
            return outcome(f, r, RequestStatus.REJECTED, fallback, bad.get());
        }
        String v = normalise(f, r.value());
        switch (f.type()) {
            case BOOL -> {
                if ("1".equals(v) && l.deny() != null) {
                    return outcome(f, r, RequestStatus.REJECTED, fallback,
                            "forbidden by policy rule '" + l.deny().text() + "'");
                }
            }
            case RANGE -> {
                long n = Long.parseLong(v);
                if (l.max() != null && n > l.max().max().get()) {
                    long m = Math.max(l.max().max().get(), f.min());
                    return outcome(f, r, RequestStatus.CLAMPED, Long.toString(m),
                            "limited to " + m + " by policy rule '" + l.max().text() + "'");
                }
                if (l.min() != null && n < l.min().min().get()) {
                    long m = Math.min(l.min().min().get(), f.max());
                    return outcome(f, r, RequestStatus.CLAMPED, Long.toString(m),
                            "raised to " + m + " by policy rule '" + l.min().text() + "'");
                }
            }
            case ENUM -> {
                if (l.allow() != null && !l.allow().allow().contains(v)) {
                    return outcome(f, r, RequestStatus.REJECTED, fallback,
                            "forbidden by policy rule '" + l.allow().text() + "'");
                }
            }
        }
        return outcome(f, r, RequestStatus.ACCEPTED, v, "");
    }

    private static RequestOutcome outcome(FeatureDescriptor f, FeatureRequest r, RequestStatus s, String value,
                                          String reason) {
        return new RequestOutcome(f.key(), r.name(), r.value(), r.source(), s, value, reason);
    }

    /** Why {@code value} is not something the backend can do at all, if it is not. */
    static Optional<String> capabilityProblem(String deviceType, FeatureDescriptor f, String value) {
        switch (f.type()) {
            case BOOL -> {
                if (normalise(f, value) == null) {
                    return Optional.of("'" + value + "' is not on/off (use 1 or 0)");
                }
            }
            case RANGE -> {
                long n;
                try {
                    n = Long.parseLong(value.trim());
                } catch (NumberFormatException e) {
                    return Optional.of("'" + value + "' is not a number");
                }
                if (n < f.min() || n > f.max()) {
                    return Optional.of(n + " is outside the range " + f.min() + ".." + f.max()
                            + " the " + deviceType + " backend offers for " + f.key());
                }
            }
            case ENUM -> {
                if (!f.allowedValues().contains(value.trim())) {
                    return Optional.of("'" + value + "' is not one of " + String.join(", ", f.allowedValues()));
                }
            }
        }
        return Optional.empty();
    }

    /** The XenStore form of a valid value: 0/1 for bools, a plain decimal for ranges. */
    static String normalise(FeatureDescriptor f, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        return switch (f.type()) {
            case BOOL -> switch (v) {
                case "1", "on", "true", "yes" -> "1";
                case "0", "off", "false", "no" -> "0";
                default -> null;
            };
            case RANGE -> Long.toString(Long.parseLong(v));
            case ENUM -> value.trim();
        };
    }

    /**
     * What the device gets when nobody asks: the capability default, or the policy's
     * {@code default=} when it is a value the backend can do, then held inside the policy limits.
     */
    static String effectiveDefault(FeatureDescriptor f, PolicyRules.FeatureLimits l) {
        String v = f.defaultValue();
        if (l.defaultValue() != null) {
            String d = l.defaultValue().defaultValue().get();
            if (capabilityProblem("", f, d).isEmpty()) {
                v = normalise(f, d);
            }
        }
        if (f.type() == FeatureType.BOOL && l.deny() != null) {
            return "0";
        }
        if (f.type() == FeatureType.RANGE) {
            long n = Long.parseLong(v);
            if (l.max() != null) {
                n = Math.min(n, Math.max(l.max().max().get(), f.min()));
            }
            if (l.min() != null) {
                n = Math.max(n, Math.min(l.min().min().get(), f.max()));
            }
            return Long.toString(n);
        }
        if (f.type() == FeatureType.ENUM && l.allow() != null && !l.allow().allow().contains(v)) {
            return l.allow().allow().stream().filter(f.allowedValues()::contains).findFirst().orElse(v);
        }
        return v;
    }
}
