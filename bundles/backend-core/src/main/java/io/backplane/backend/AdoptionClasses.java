package io.backplane.backend;

import io.backplane.api.backend.BackendDriver;
import io.backplane.api.log.OperatorLog;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.wiring.BundleWiring;

import java.net.URL;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Loads the classes an adoption runs before it runs them, each loaded and linked (verified)
 * through its bundle: under emulation loading and verifying a class the first time costs
 * milliseconds each, which is otherwise paid in the guests' pause. Nothing is initialised: no
 * static state of any bundle runs.
 *
 * <ul>
 *   <li>A standby, once ({@link #preloadAll}): every class of Backplane's own active bundles
 *       (the driver, the ring strategies, ring-core, the hypervisor, native I/O), which it has
 *       not run yet.</li>
 *   <li>A driver bound from a bundle whose classes were not loaded yet ({@link #preloadDriver}),
 *       on a thread of its own: after a bundle update the new revision's classes are loaded by
 *       no one, and the devices the old revision handed over are adopted by that code as it
 *       first runs. Started as the core binds the driver, the loading runs beside the discovery
 *       and claim of those devices (XenStore round trips) instead.</li>
 * </ul>
 */
final class AdoptionClasses {
    /** Backplane's bundles are named backplane-*; only their own packages, not what they embed. */
    static final String BUNDLE_PREFIX = "backplane-";
    static final String PACKAGES = "/io/backplane";

    private final BundleContext context;
    private final OperatorLog log;
    /**
     * The class loaders (bundle wirings) whose classes are loaded or being loaded: an update or
     * a refresh gives a bundle a new one. Weak, so an old revision's loader can go.
     */
    private final Set<ClassLoader> preloaded = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    AdoptionClasses(BundleContext context, OperatorLog log) {
        this.context = context;
        this.log = log;
    }

    /** Loads every class of Backplane's own active bundles; says how many, for the log. */
    String preloadAll() {
        int classes = 0;
        int bundles = 0;
        for (Bundle b : context.getBundles()) {
            String name = b.getSymbolicName();
            if (name == null || !name.startsWith(BUNDLE_PREFIX) || b.getState() != Bundle.ACTIVE) {
                continue;
            }
            BundleWiring wiring = b.adapt(BundleWiring.class);
            if (wiring != null && wiring.getClassLoader() != null) {
                preloaded.add(wiring.getClassLoader());
            }
            int loaded = load(b);
            if (loaded > 0) {
                bundles++;
                classes += loaded;
            }
        }
        return classes + " classes of " + bundles + " bundles loaded";
    }

    /**
     * Loads the classes of the driver's bundle on a thread of its own, unless they are loaded
     * already (this revision's driver was bound before, or a standby loaded every bundle).
     * Nothing for a driver that is not from a bundle (tests).
     */
    void preloadDriver(BackendDriver driver) {
        Bundle bundle = FrameworkUtil.getBundle(driver.getClass());
        if (bundle == null || !preloaded.add(driver.getClass().getClassLoader())) {
            return;
        }
        Thread t = new Thread(() -> {
            long begin = System.nanoTime();
            int loaded = load(bundle);
            if (loaded >= 0) {
                // When Felix made the revision: after an update, the old revision's stop ends
                // before it, and the new one's resolution and start come between it and the bind.
                LocalTime made = LocalTime.ofInstant(Instant.ofEpochMilli(bundle.getLastModified()), ZoneId.systemDefault());
                log.info(driver.deviceType() + " driver: " + loaded + " classes of this " + bundle.getSymbolicName()
                        + " revision loaded in " + (System.nanoTime() - begin) / 1_000_000
                        + " ms, beside the adoption of its devices (revision installed or updated at "
                        + made.truncatedTo(ChronoUnit.MILLIS) + ")");
            }
        }, "preload-" + bundle.getSymbolicName());
        t.setDaemon(true);
        t.start();
    }

    /** Loads and links the bundle's own classes: how many, or -1 when the bundle went away meanwhile. */
    private static int load(Bundle b) {
        int classes = 0;
        try {
            Enumeration<URL> entries = b.findEntries(PACKAGES, "*.class", true);
            while (entries != null && entries.hasMoreElements()) {
                String path = entries.nextElement().getPath();
                if (path.endsWith("package-info.class")) {
                    continue;
                }
                String className = path.substring(1, path.length() - ".class".length()).replace('/', '.');
                try {
                    b.loadClass(className).getDeclaredMethods();   // links the class: verification happens here
                    classes++;
                } catch (ClassNotFoundException | LinkageError | SecurityException e) {
                    // a class of an optional dependency absent here: on no adoption path of this runtime
                }
            }
        } catch (IllegalStateException e) {
            return -1;                                              // uninstalled or updated meanwhile
        }
        return classes;
    }
}
