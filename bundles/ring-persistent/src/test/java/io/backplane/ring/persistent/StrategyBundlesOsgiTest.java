package io.backplane.ring.persistent;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.api.ring.RingStrategy;
import io.backplane.guest.grantpool.GrantPoolSim;
import io.backplane.ring.layout.BlkifConstants;
import io.backplane.ring.layout.NetifConstants;
import io.backplane.testkit.osgi.ClasspathBundles;
import io.backplane.testkit.osgi.TestFramework;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The two strategy bundles in Felix with SCR, ConfigAdmin and metatype, on the sim's grant tables
 * (registered by this test as the GrantTables service): both register as RingStrategy services
 * under their names, map-batched-unmap ranks below grant-copy, the persistent limits are
 * described by metatype, and a ConfigAdmin change of the cap reaches the next ring opened.
 */
class StrategyBundlesOsgiTest {
    @TempDir
    Path dir;

    @Test
    void strategiesAreDsComponentsAndThePersistentCapIsConfigurable() throws Exception {
        // The API and ConfigAdmin's API from the class path, so this test and the bundles share them.
        Framework felix = TestFramework.start(dir.resolve("felix-cache"), "org.osgi.service.cm;version=1.6.1", Map.of());
        try (GrantPoolSim fx = GrantPoolSim.start(dir.resolve("sim"), 8)) {
            BundleContext ctx = felix.getBundleContext();
            ctx.registerService(GrantTables.class, fx.sim(), null);
            List<Bundle> bundles = new ArrayList<>();
            for (String name : List.of("org.osgi.util.function", "org.osgi.util.promise", "org.osgi.service.component",
                    "org.apache.felix.log", "org.apache.felix.configadmin", "org.apache.felix.metatype", "org.apache.felix.scr",
                    "bundles/ring-core/", "bundles/ring-map/", "bundles/ring-persistent/")) {
                bundles.add(ctx.installBundle("reference:" + ClasspathBundles.find(name).toURI()));
            }
            for (Bundle b : bundles) {
                b.start();
            }
            Map<String, ServiceReference<RingStrategy>> byName = strategies(ctx, 2);
            assertThat(byName).containsOnlyKeys("persistent", "map-batched-unmap");
            assertThat(byName.get("map-batched-unmap").getProperty(Constants.SERVICE_RANKING))
                    .as("below grant-copy's -100").isEqualTo(-200);
            assertThat(byName.get("persistent").getProperty(RingStrategy.SERVES))
                    .as("backends offer feature-persistent on vbds and vifs only while such a strategy is registered")
                    .isEqualTo(new String[] {BlkifConstants.SERVES_PERSISTENT, NetifConstants.SERVES_PERSISTENT});
            assertThat(byName.get("map-batched-unmap").getProperty(RingStrategy.SERVES))
                    .as("a frontend asking for batched unmaps gets it")
                    .isEqualTo(new String[] {BlkifConstants.SERVES_UNMAP_BATCH, NetifConstants.SERVES_UNMAP_BATCH});
            Bundle persistentBundle = byName.get("persistent").getBundle();
            assertThat(persistentBundle.getEntry("OSGI-INF/metatype/io.backplane.ring.persistent.PersistentConfig.xml"))
                    .as("metatype for ConfigAdmin and the shell").isNotNull();

            ConfigurationAdmin cm = ctx.getService(ctx.getServiceReference(ConfigurationAdmin.class));
            Configuration config = cm.getConfiguration(PersistentStrategy.PID, "?");
            Dictionary<String, Object> limits = new Hashtable<>();
            limits.put("maxPersistentGrants", 2);
            config.update(limits);

            RingRequest ring = new RingRequest(fx.domid(), "blkif", 112, 16, new int[] {fx.pool().ringRef()},
                    Map.of("feature-persistent", "1"));
            int[] refs = fx.pool().refs();
            ByteBuffer local = ByteBuffer.allocateDirect(4096);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Map<String, Long> counters;
            do {
                // ConfigAdmin delivers asynchronously: open rings until one has the new cap.
                RingStrategy persistent = ctx.getService(strategies(ctx, 2).get("persistent"));
                try (RingChannel ch = persistent.open(ring)) {
                    for (int i = 0; i < 4; i++) {
                        assertThat(ch.segments().read(refs[i], 0, local, 0, 4096)).isZero();
                    }
                    counters = ch.counters();
                }
            } while (counters.get("persistent-grants") != 2 && System.nanoTime() < deadline);
            assertThat(counters).containsEntry("persistent-grants", 2L).containsEntry("persistent-fallback-copies", 2L);
            assertThat(fx.pinned()).isZero();
        } finally {
            felix.stop();
            felix.waitForStop(10_000);
        }
    }

    private static Map<String, ServiceReference<RingStrategy>> strategies(BundleContext ctx, int expected) throws Exception {
        ServiceTracker<RingStrategy, RingStrategy> tracker = new ServiceTracker<>(ctx, RingStrategy.class, null);
        tracker.open();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (tracker.size() < expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Map<String, ServiceReference<RingStrategy>> byName = new HashMap<>();
        ServiceReference<RingStrategy>[] refs = tracker.getServiceReferences();
        for (ServiceReference<RingStrategy> r : refs == null ? List.<ServiceReference<RingStrategy>>of() : List.of(refs)) {
            byName.put((String) r.getProperty(RingStrategy.NAME), r);
        }
        tracker.close();
        return byName;
    }
}
