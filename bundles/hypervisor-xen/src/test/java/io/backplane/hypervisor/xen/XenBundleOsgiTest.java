package io.backplane.hypervisor.xen;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.testkit.osgi.ClasspathBundles;
import io.backplane.testkit.osgi.TestFramework;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;

/**
 * The real bundle in Felix with SCR on a machine that is not a Xen dom0: it resolves, the probe
 * activates, and no hypervisor service with backplane.hypervisor=xen is registered (the xen
 * component stays disabled instead of failing to activate).
 */
class XenBundleOsgiTest {
    @TempDir
    Path dir;

    @Test
    void offXenTheBundleRegistersNothing() throws Exception {
        if (Files.exists(Path.of("/dev/xen/gntdev"))) {
            System.out.println("XenBundleOsgiTest skipped: this is a Xen dom0 (/dev/xen/gntdev exists)");
            Assumptions.assumeTrue(false, "this is a Xen dom0");
        }
        Framework felix = TestFramework.start(dir.resolve("felix-cache"), null, Map.of());
        try {
            BundleContext ctx = felix.getBundleContext();
            List<Bundle> bundles = new ArrayList<>();
            for (String name : List.of("org.osgi.util.function", "org.osgi.util.promise", "org.osgi.service.component",
                    "org.apache.felix.log", "org.apache.felix.scr", "bundles/native/")) {
                bundles.add(ctx.installBundle("reference:" + ClasspathBundles.find(name).toURI()));
            }
            Bundle xen = ctx.installBundle("reference:" + new File("target/classes").getAbsoluteFile().toURI());
            bundles.add(xen);
            for (Bundle b : bundles) {
                b.start();
            }
            assertThat(xen.getState()).isEqualTo(Bundle.ACTIVE);
            Map<String, String> states = new HashMap<>();
            for (int i = 0; i < 100 && !"active".equals(states.get(XenDeviceProbe.class.getName())); i++) {
                Thread.sleep(100);
                states = componentStates(ctx);
            }
            System.out.println("components: " + states);
            assertThat(states).containsEntry(XenDeviceProbe.class.getName(), "active")
                    .containsEntry(XenHypervisor.NAME, "disabled");
            for (String service : List.of("Domains", "GrantTables", "EventChannels", "ForeignMemory")) {
                assertThat(ctx.getAllServiceReferences("io.backplane.api.hypervisor." + service, "(backplane.hypervisor=xen)"))
                        .as(service + " registered off Xen").isNull();
            }
        } finally {
            felix.stop();
            felix.waitForStop(10_000);
        }
    }

    /**
     * Each component of the xen bundle: "disabled", "active" or another configuration state, read
     * from SCR's ServiceComponentRuntime DTOs (by reflection: the test has its own copy of the API).
     */
    private static Map<String, String> componentStates(BundleContext ctx) throws Exception {
        ServiceReference<?>[] refs = ctx.getAllServiceReferences("org.osgi.service.component.runtime.ServiceComponentRuntime", null);
        assertThat(refs).as("SCR").isNotNull();
        Object scr = ctx.getService(refs[0]);
        ClassLoader loader = refs[0].getBundle().adapt(org.osgi.framework.wiring.BundleWiring.class).getClassLoader();
        Class<?> api = loader.loadClass("org.osgi.service.component.runtime.ServiceComponentRuntime");
        Class<?> dtoType = loader.loadClass("org.osgi.service.component.runtime.dto.ComponentDescriptionDTO");
        java.util.Collection<?> dtos = (java.util.Collection<?>) api.getMethod("getComponentDescriptionDTOs", Bundle[].class)
                .invoke(scr, (Object) new Bundle[0]);
        Map<String, String> states = new HashMap<>();
        for (Object dto : dtos) {
            String name = (String) dtoType.getField("name").get(dto);
            if (!name.startsWith("io.backplane.hypervisor.xen")) {
                continue;
            }
            if (!(Boolean) api.getMethod("isComponentEnabled", dtoType).invoke(scr, dto)) {
                states.put(name, "disabled");
                continue;
            }
            java.util.Collection<?> configs = (java.util.Collection<?>) api.getMethod("getComponentConfigurationDTOs", dtoType).invoke(scr, dto);
            for (Object c : configs) {
                int state = c.getClass().getField("state").getInt(c);
                states.put(name, state == 8 ? "active" : "state " + state);
            }
        }
        return states;
    }
}
