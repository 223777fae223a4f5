package io.backplane.arch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** {@link LayerRules} on the bundles this build made, and on manifests that break each rule. */
class ArchitectureTest {

    @Test
    void theBuiltBundlesKeepToTheirLayers() throws Exception {
        List<BundleManifest> bundles = builtBundles();
        assertThat(bundles).extracting(BundleManifest::name).containsAll(LayerRules.named());
        assertThat(LayerRules.violations(bundles)).isEmpty();
    }

    @Test
    void theGuestJarHoldsNoClassOfDom0() throws Exception {
        Path jar = classpath().stream().filter(p -> p.getFileName().toString().matches("backplane-guest-.*-runnable\\.jar"))
                .findFirst().orElseThrow(() -> new AssertionError("the guest's runnable jar is not on the test classpath"));
        Set<String> packages = new TreeSet<>();
        try (JarFile j = new JarFile(jar.toFile())) {
            for (JarEntry e : (Iterable<JarEntry>) j.stream()::iterator) {
                String n = e.getName();
                if (n.endsWith(".class") && n.contains("/")) {
                    packages.add(n.substring(0, n.lastIndexOf('/')).replace('/', '.'));
                }
            }
        }
        assertThat(packages).contains("io.backplane.guest.sim", "io.backplane.xs.client", "io.backplane.hypervisor.sim.abi");
        assertThat(LayerRules.foreignInGuestJar(packages, builtBundles())).isEmpty();
    }

    @Test
    void eachRuleCatchesABreach() {
        BundleManifest api = BundleManifest.of("backplane-api", "io.backplane.api.ring,org.osgi.framework;version=\"[1.10,2)\"",
                "io.backplane.api.ring;version=\"1.0.0\";uses:=\"io.backplane.api.hypervisor,java.nio\"", null);
        BundleManifest sim = BundleManifest.of("backplane-hypervisor-sim", null, "io.backplane.hypervisor.sim", null);
        BundleManifest netback = BundleManifest.of("backplane-netback", null, "io.backplane.netback", null);
        BundleManifest persistent = BundleManifest.of("backplane-ring-persistent", "io.backplane.netback",
                "io.backplane.ring.persistent", null);
        BundleManifest blkback = BundleManifest.of("backplane-blkback", "io.backplane.ring.persistent", null, null);
        BundleManifest toolstack = BundleManifest.of("backplane-toolstack", "io.backplane.netback", null, null);
        BundleManifest guest = BundleManifest.of("backplane-guest",
                "io.backplane.api.ring,io.backplane.hypervisor.sim,io.backplane.xenstore.client,java.nio", null, null);

        BundleManifest holder = BundleManifest.of("backplane-xenstore-holder", "io.backplane.api.ring,io.backplane.netback",
                "io.backplane.xenstore.holder", null);

        List<String> v = LayerRules.violations(List.of(api, sim, netback, persistent, blkback, toolstack, guest, holder));

        assertThat(v).containsExactlyInAnyOrder(
                "backplane-api imports org.osgi.framework: the API may use only the JDK",
                "backplane-ring-persistent imports io.backplane.netback of backplane-netback: a strategy may not use a backend",
                "backplane-blkback imports io.backplane.ring.persistent of backplane-ring-persistent: a backend may not use a strategy",
                "backplane-toolstack imports io.backplane.netback of backplane-netback: the toolstack may not use a backend",
                "backplane-xenstore-holder imports io.backplane.netback: the holder is never updated, so it may use only the API,"
                        + " OSGi and the JDK",
                "backplane-guest imports io.backplane.hypervisor.sim of backplane-hypervisor-sim: the guest side may use only "
                        + new TreeSet<>(LayerRules.GUEST_MAY_USE) + " and the JDK",
                "backplane-guest imports io.backplane.xenstore.client, which no bundle exports: it would not resolve",
                "backplane-guest imports io.backplane.xenstore.client: the guest side may use only "
                        + new TreeSet<>(LayerRules.GUEST_MAY_USE) + " and the JDK");
        assertThat(LayerRules.foreignInGuestJar(List.of("io.backplane.api.ring", "io.backplane.xenstore.wire", "jnr.ffi"),
                List.of(api))).containsExactly("io.backplane.xenstore.wire");
    }

    private static List<BundleManifest> builtBundles() throws Exception {
        List<BundleManifest> bundles = new ArrayList<>();
        for (Path entry : classpath()) {
            if (entry.getFileName().toString().endsWith("-runnable.jar")) {
                continue; // the guest program, checked by class above
            }
            BundleManifest m = BundleManifest.read(entry);
            if (m != null && m.name().startsWith("backplane-")) {
                bundles.add(m);
            }
        }
        return bundles;
    }

    private static List<Path> classpath() {
        List<Path> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (p.toFile().exists()) {
                entries.add(p);
            }
        }
        return entries;
    }
}
