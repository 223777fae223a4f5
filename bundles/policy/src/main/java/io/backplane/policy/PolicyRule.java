package io.backplane.policy;

import java.util.List;
import java.util.Optional;

/**
 * One admin rule, e.g. {@code vif queues max=4} or {@code vbd@7 feature-persistent deny}.
 * Absent constraints are empty; {@code text} is the rule as written, quoted in reasons.
 *
 * @param deviceType the type it applies to, or {@code *} for every type (only with a domain)
 * @param domain     empty for every domain, else a domain id or name
 * @param feature    the feature key or alias
 */
record PolicyRule(String text, String deviceType, Optional<String> domain, String feature,
                  Optional<Long> max, Optional<Long> min, boolean deny, List<String> allow,
                  Optional<String> defaultValue) {

    /** Higher is more specific: a rule for one domain's vifs beats one for all vifs. */
    int specificity() {
        if (domain.isEmpty()) {
            return 0;
        }
        return "*".equals(deviceType) ? 1 : 2;
    }

    boolean appliesTo(String type, int domid, Optional<String> domainName) {
        if (!"*".equals(deviceType) && !deviceType.equals(type)) {
            return false;
        }
        if (domain.isEmpty()) {
            return true;
        }
        String d = domain.get();
        return d.equals(Integer.toString(domid)) || domainName.map(d::equals).orElse(false);
    }
}
