package io.backplane.policy;

import io.backplane.api.device.FeatureDescriptor;
import io.backplane.api.device.FeatureType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The admin policy: an immutable list of {@link PolicyRule}s parsed from the {@code rules}
 * property of configuration {@code io.backplane.policy}. Grammar, one rule per entry:
 * <pre>
 *   SCOPE FEATURE CONSTRAINT...
 *   SCOPE      = TYPE | TYPE@DOMAIN | *@DOMAIN      (DOMAIN: id or name)
 *   CONSTRAINT = max=N | min=N | deny | allow=V1|V2... | default=V
 * </pre>
 */
public final class PolicyRules {

    public static final PolicyRules NONE = new PolicyRules(List.of());

    private final List<PolicyRule> rules;

    private PolicyRules(List<PolicyRule> rules) {
        this.rules = List.copyOf(rules);
    }

    List<PolicyRule> rules() {
        return rules;
    }

    /** Parses every entry; the first bad one fails the whole set (a half-applied policy is worse). */
    public static PolicyRules parse(String... entries) {
        List<PolicyRule> out = new ArrayList<>();
        if (entries != null) {
            for (int i = 0; i < entries.length; i++) {
                String entry = entries[i] == null ? "" : entries[i].trim();
                if (entry.isEmpty() || entry.startsWith("#")) {
                    continue;
                }
                try {
                    out.add(parseRule(entry));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("policy rule " + (i + 1) + " '" + entry + "': " + e.getMessage());
                }
            }
        }
        return new PolicyRules(out);
    }

    private static PolicyRule parseRule(String entry) {
        String[] w = entry.split("\\s+");
        if (w.length < 3) {
            throw new IllegalArgumentException("expected SCOPE FEATURE CONSTRAINT (e.g. 'vif queues max=4')");
        }
        String type = w[0];
        Optional<String> domain = Optional.empty();
        int at = w[0].indexOf('@');
        if (at >= 0) {
            type = w[0].substring(0, at);
            String d = w[0].substring(at + 1);
            if (d.isEmpty() || !d.matches("[A-Za-z0-9_.-]+")) {
                throw new IllegalArgumentException("bad domain '" + d + "'");
            }
            domain = Optional.of(d);
        }
        if (!type.matches("[a-z0-9]+") && !("*".equals(type) && domain.isPresent())) {
            throw new IllegalArgumentException("bad device type '" + type + "' (a type like vif, or *@DOMAIN)");
        }
        String feature = w[1];
        if (!feature.matches("[A-Za-z0-9_-]+")) {
            throw new IllegalArgumentException("bad feature name '" + feature + "'");
        }
        Optional<Long> max = Optional.empty();
        Optional<Long> min = Optional.empty();
        Optional<String> def = Optional.empty();
        boolean deny = false;
        List<String> allow = List.of();
        for (int i = 2; i < w.length; i++) {
            String c = w[i];
            if ("deny".equals(c)) {
                deny = true;
            } else if (c.startsWith("max=")) {
                max = Optional.of(number(c.substring(4), "max"));
            } else if (c.startsWith("min=")) {
                min = Optional.of(number(c.substring(4), "min"));
            } else if (c.startsWith("allow=") && c.length() > 6) {
                allow = List.of(c.substring(6).split("\\|"));
            } else if (c.startsWith("default=") && c.length() > 8) {
                def = Optional.of(c.substring(8));
            } else {
                throw new IllegalArgumentException("unknown constraint '" + c + "' (max=N, min=N, deny, allow=A|B, default=V)");
            }
        }
        if (max.isPresent() && min.isPresent() && min.get() > max.get()) {
            throw new IllegalArgumentException("min " + min.get() + " above max " + max.get());
        }
        return new PolicyRule(entry, type, domain, feature, max, min, deny, allow, def);
    }

    private static long number(String s, String what) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + s + "' is not a number");
        }
    }

    /**
     * The constraints in force for one feature of one device: for each kind of constraint the
     * most specific rule that sets it (a later rule wins a tie).
     */
    FeatureLimits limitsFor(FeatureDescriptor f, String type, int domid, Optional<String> domainName) {
        List<PolicyRule> matching = rules.stream()
                .filter(r -> f.answersTo(r.feature()) && r.appliesTo(type, domid, domainName))
                .sorted(Comparator.comparingInt(PolicyRule::specificity))
                .toList();
        PolicyRule max = null, min = null, deny = null, allow = null, def = null;
        for (PolicyRule r : matching) { // ascending specificity, stable: the last one set wins
            if (r.max().isPresent()) max = r;
            if (r.min().isPresent()) min = r;
            if (r.deny()) deny = r;
            if (!r.allow().isEmpty()) allow = r;
            if (r.defaultValue().isPresent()) def = r;
        }
        return new FeatureLimits(max, min, deny, allow, def);
    }

    /**
     * Rules that can never apply as written: a feature no registered type knows, or a
     * constraint that does not fit the feature's type. Reported to the operator, not fatal,
     * because the backend that knows the feature may simply not be installed yet.
     */
    List<String> problems(java.util.function.BiFunction<String, String, Optional<FeatureDescriptor>> lookup,
                          java.util.Set<String> knownTypes) {
        return problems(lookup, knownTypes, type -> true);
    }

    /** {@link #problems(java.util.function.BiFunction, java.util.Set)} of the rules whose device type passes {@code ofType}. */
    List<String> problems(java.util.function.BiFunction<String, String, Optional<FeatureDescriptor>> lookup,
                          java.util.Set<String> knownTypes, java.util.function.Predicate<String> ofType) {
        List<String> out = new ArrayList<>();
        for (PolicyRule r : rules) {
            if (!ofType.test(r.deviceType())) {
                continue;
            }
            List<String> types = "*".equals(r.deviceType()) ? List.copyOf(knownTypes) : List.of(r.deviceType());
            Optional<FeatureDescriptor> f = types.stream().map(t -> lookup.apply(t, r.feature()))
                    .flatMap(Optional::stream).findFirst();
            if (f.isEmpty()) {
                out.add("rule '" + r.text() + "': no " + r.deviceType() + " backend feature named '" + r.feature() + "'");
                continue;
            }
            FeatureType t = f.get().type();
            if ((r.max().isPresent() || r.min().isPresent()) && t != FeatureType.RANGE) {
                out.add("rule '" + r.text() + "': max/min only apply to numeric features; " + f.get().key() + " is " + t.name().toLowerCase());
            }
            if (r.deny() && t != FeatureType.BOOL) {
                out.add("rule '" + r.text() + "': deny only applies to on/off features; use max= for " + f.get().key());
            }
            if (!r.allow().isEmpty() && t != FeatureType.ENUM) {
                out.add("rule '" + r.text() + "': allow= only applies to features with named values");
            }
        }
        return out;
    }

    /** The rules that decide one feature of one device; null where no rule says anything. */
    record FeatureLimits(PolicyRule max, PolicyRule min, PolicyRule deny, PolicyRule allow, PolicyRule defaultValue) {
    }
}
