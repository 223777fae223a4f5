package io.backplane.policy;

import io.backplane.api.device.DeviceCapabilities;
import io.backplane.api.device.NegotiationPolicy;
import io.backplane.api.xenstore.XenStore;
import org.osgi.service.log.Logger;

import java.lang.reflect.Proxy;
import java.util.Map;

/**
 * The real negotiation policy wired the way SCR wires it (through its constructor), for
 * tests of the backend core that run without an OSGi framework.
 */
public final class PolicyFixture {

    private PolicyFixture() {
    }

    /** The policy and the capability registry it decides from. */
    public record Wired(NegotiationPolicy policy, io.backplane.api.device.CapabilityRegistry registry) {

        /** What SCR does when the backend core's NegotiationListener service appears. */
        public void addListener(io.backplane.api.device.NegotiationListener listener) {
            ((FeaturePolicy) policy).addListener(listener, Map.of());
        }

        /** What SCR does when a backend bundle registers (more) capabilities. */
        public void addCapabilities(DeviceCapabilities capabilities) {
            ((MergedCapabilityRegistry) registry).addCapabilities(capabilities, Map.of(
                    DeviceCapabilities.DEVICE_TYPE, capabilities.deviceType(), "service.id", 100L));
        }

        /** An admin edit of the rules through ConfigAdmin (@Modified). */
        public void modify(String... rules) {
            ((FeaturePolicy) policy).modified(config(rules));
        }
    }

    public static Wired policy(XenStore xenStore, String... rules) {
        MergedCapabilityRegistry registry = new MergedCapabilityRegistry();
        registry.addCapabilities(FixtureCapabilities.vif(), Map.of(DeviceCapabilities.DEVICE_TYPE, "vif",
                "service.ranking", -1000, "service.id", 1L));
        registry.addCapabilities(FixtureCapabilities.vbd(), Map.of(DeviceCapabilities.DEVICE_TYPE, "vbd",
                "service.ranking", -1000, "service.id", 2L));
        FeaturePolicy policy = new FeaturePolicy(xenStore, registry, logger(), config(rules));
        return new Wired(policy, registry);
    }

    private static PolicyConfig config(String[] rules) {
        return (PolicyConfig) Proxy.newProxyInstance(PolicyConfig.class.getClassLoader(), new Class<?>[]{PolicyConfig.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "rules" -> rules;
                    case "backendDomid" -> 0;
                    case "annotationType" -> PolicyConfig.class;
                    default -> method.getDefaultValue();
                });
    }

    /** An OSGi Logger printing "policy: message" with SLF4J-style {} placeholders filled. */
    private static Logger logger() {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[]{Logger.class},
                (proxy, method, args) -> {
                    if (args != null && args.length > 0 && args[0] instanceof String format) {
                        StringBuilder out = new StringBuilder();
                        int arg = 1;
                        Object[] rest = args.length > 1 && args[1] instanceof Object[] a ? a
                                : java.util.Arrays.copyOfRange(args, 1, args.length);
                        int from = 0;
                        int at;
                        int used = 0;
                        while ((at = format.indexOf("{}", from)) >= 0 && used < rest.length) {
                            out.append(format, from, at).append(rest[used++]);
                            from = at + 2;
                        }
                        out.append(format.substring(from));
                        System.err.println("policy " + method.getName() + ": " + out);
                    }
                    return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
                });
    }
}
