package io.backplane.arch;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which bundle's main code may use which (docs/architecture.md, "Layers"), checked on the
 * manifests: the API uses only the JDK; the guest side uses only the API, native access, the
 * ring protocol and itself, nothing of dom0; strategies use no backend, backends no strategy,
 * the toolstack no backend; and every Backplane package a bundle imports is exported by one.
 */
final class LayerRules {
    static final String API = "backplane-api";
    static final String TOOLSTACK = "backplane-toolstack";
    /** Never updated (they keep the store, or the sim's domains, across updates): they may use nothing that is. */
    static final String XENSTORE_HOLDER = "backplane-xenstore-holder";
    static final Set<String> HOLDERS = Set.of(XENSTORE_HOLDER, "backplane-hypervisor-sim-holder");
    static final Set<String> GUEST_SIDE = Set.of("backplane-guest", "backplane-sim-abi", "backplane-xs-client");
    static final Set<String> GUEST_MAY_USE = Set.of("backplane-guest", "backplane-sim-abi", "backplane-xs-client",
            API, "backplane-native", "backplane-ring-core");
    static final Set<String> STRATEGIES = Set.of("backplane-ring-grant-copy", "backplane-ring-persistent",
            "backplane-ring-map", "backplane-ring-zerocopy", "backplane-ring-wholememory");
    static final Set<String> BACKENDS = Set.of("backplane-netback", "backplane-blkback", "backplane-backend-core");

    private LayerRules() {
    }

    /** Every bundle the rules name: a check that found fewer would pass for want of input. */
    static Set<String> named() {
        Set<String> all = new TreeSet<>(GUEST_MAY_USE);
        all.addAll(STRATEGIES);
        all.addAll(BACKENDS);
        all.add(TOOLSTACK);
        all.addAll(HOLDERS);
        return all;
    }

    static List<String> violations(Collection<BundleManifest> bundles) {
        Map<String, String> exporter = new HashMap<>();
        for (BundleManifest b : bundles) {
            b.exports().forEach(p -> exporter.put(p, b.name()));
        }
        List<String> found = new ArrayList<>();
        for (BundleManifest b : bundles) {
            for (String p : b.imports()) {
                if (b.exports().contains(p)) {
                    continue; // bnd imports what a bundle exports, so another exporter may stand in
                }
                String from = exporter.getOrDefault(p, "");
                if (from.isEmpty() && p.startsWith("io.backplane.")) {
                    found.add(b.name() + " imports " + p + ", which no bundle exports: it would not resolve");
                }
                boolean jdk = p.startsWith("java.");
                if (b.name().equals(API) && !jdk) {
                    found.add(API + " imports " + p + ": the API may use only the JDK");
                }
                if (GUEST_SIDE.contains(b.name()) && !jdk && !GUEST_MAY_USE.contains(from)) {
                    found.add(b.name() + " imports " + p + (from.isEmpty() ? "" : " of " + from)
                            + ": the guest side may use only " + new TreeSet<>(GUEST_MAY_USE) + " and the JDK");
                }
                if (STRATEGIES.contains(b.name()) && BACKENDS.contains(from)) {
                    found.add(b.name() + " imports " + p + " of " + from + ": a strategy may not use a backend");
                }
                if (BACKENDS.contains(b.name()) && STRATEGIES.contains(from)) {
                    found.add(b.name() + " imports " + p + " of " + from + ": a backend may not use a strategy");
                }
                if (HOLDERS.contains(b.name()) && p.startsWith("io.backplane.") && !from.equals(API)) {
                    found.add(b.name() + " imports " + p + ": the holder is never updated, so it may use only the API,"
                            + " OSGi and the JDK");
                }
                if (b.name().equals(TOOLSTACK) && BACKENDS.contains(from)) {
                    found.add(TOOLSTACK + " imports " + p + " of " + from + ": the toolstack may not use a backend");
                }
            }
        }
        return found;
    }

    /** Packages of the guest's runnable jar that are no package of a bundle the guest may use. */
    static List<String> foreignInGuestJar(Collection<String> jarPackages, Collection<BundleManifest> bundles) {
        Set<String> allowed = new TreeSet<>();
        for (BundleManifest b : bundles) {
            if (GUEST_MAY_USE.contains(b.name())) {
                allowed.addAll(b.exports());
                allowed.addAll(b.privates());
            }
        }
        List<String> found = new ArrayList<>();
        for (String p : jarPackages) {
            if (p.startsWith("io.backplane.") && !allowed.contains(p)) {
                found.add(p);
            }
        }
        return found;
    }
}
