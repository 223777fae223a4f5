package io.backplane.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.backend.BackendDriver;
import io.backplane.api.log.OperatorLog;
import io.backplane.backend.preloadprobe.ProbeDriver;
import io.backplane.backend.preloadprobe.ProbeUnused;
import io.backplane.testkit.osgi.TestFramework;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;

/**
 * A driver bound from a bundle revision whose classes no one loaded yet (a bundle started, or
 * updated) has its bundle's classes loaded beside the adoption, once per revision: in Felix, a
 * bundle of two classes (its driver and one no code names), bound, bound again, updated and bound.
 */
class DriverPreloadOsgiTest {
    private static final String PROBE = "backplane-preload-probe";

    @TempDir
    Path dir;

    @Test
    void eachNewRevisionOfADriversBundleIsLoadedOnceWhenItsDriverIsBound() throws Exception {
        // The API from the test's class path: the bundle's driver is a BackendDriver the bus knows.
        Framework felix = TestFramework.start(dir.resolve("felix-cache"), null, Map.of());
        try (XenbusFixture f = new XenbusFixture(true)) {
            BundleContext ctx = felix.getBundleContext();
            Bundle probe = ctx.installBundle(probeBundle().toUri().toString());
            probe.start();
            List<String> lines = new CopyOnWriteArrayList<>();
            AdoptionClasses classes = new AdoptionClasses(ctx, OperatorLog.lines(lines::add));
            f.bus.driverCode(classes::preloadDriver);

            // A driver from no bundle (the class path): nothing to load.
            TestDriver plain = new TestDriver();
            f.bus.addDriver(plain);
            f.bus.removeDriver(plain);

            BackendDriver first = driverOf(probe);
            assertThat(first.getClass()).isNotSameAs(ProbeDriver.class);
            f.bus.addDriver(first);
            String loaded = "vif driver: 2 classes of this " + PROBE + " revision loaded in ";
            awaitLines(lines, loaded, 1);
            assertThat(lines.get(0)).startsWith(loaded).contains(" ms, beside the adoption of its devices (revision installed or updated at ");

            // The same revision bound again: already loaded.
            f.bus.removeDriver(first);
            BackendDriver again = driverOf(probe);
            f.bus.addDriver(again);
            f.bus.removeDriver(again);

            // An update: a new revision, new classes to load.
            probe.update();
            BackendDriver second = driverOf(probe);
            assertThat(second.getClass()).isNotSameAs(first.getClass());
            f.bus.addDriver(second);
            awaitLines(lines, loaded, 2);
            Thread.sleep(300);
            assertThat(lines).hasSize(2).allMatch(l -> l.startsWith(loaded));
        } finally {
            felix.stop();
            felix.waitForStop(10_000);
        }
    }

    private static BackendDriver driverOf(Bundle b) throws Exception {
        return (BackendDriver) b.loadClass(ProbeDriver.class.getName()).getConstructor().newInstance();
    }

    private static void awaitLines(List<String> lines, String prefix, int count) throws InterruptedException {
        for (int i = 0; i < 200 && lines.stream().filter(l -> l.startsWith(prefix)).count() < count; i++) {
            Thread.sleep(25);
        }
        assertThat(lines.stream().filter(l -> l.startsWith(prefix)).count()).as("preload lines: " + lines).isEqualTo(count);
    }

    /** A bundle of the probe's two classes, copied from the test's class path. */
    private Path probeBundle() throws Exception {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue(Constants.BUNDLE_MANIFESTVERSION, "2");
        a.putValue(Constants.BUNDLE_SYMBOLICNAME, PROBE);
        a.putValue(Constants.BUNDLE_VERSION, "1.0.0");
        a.putValue(Constants.IMPORT_PACKAGE, "io.backplane.api.backend");
        Path jar = dir.resolve("probe.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
            for (Class<?> c : List.of(ProbeDriver.class, ProbeUnused.class)) {
                String entry = c.getName().replace('.', '/') + ".class";
                j.putNextEntry(new JarEntry(entry));
                try (InputStream in = c.getClassLoader().getResourceAsStream(entry)) {
                    in.transferTo(j);
                }
                j.closeEntry();
            }
        }
        return jar;
    }
}
