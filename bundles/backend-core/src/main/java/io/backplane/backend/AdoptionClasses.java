package io.backplane.backend;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

import java.net.URL;
import java.util.Enumeration;

/**
 * What a standby loads before it may have to adopt: every class of Backplane's own active
 * bundles, loaded and linked (verified) through its bundle. An adoption runs code of many
 * bundles (the driver, the ring strategies, ring-core, the hypervisor, native I/O) that a
 * standby has not run yet; under emulation loading and verifying a class the first time costs
 * milliseconds each, which a standby pays here instead of in its guests' pause. Nothing is
 * initialised: no static state of any bundle runs.
 */
final class AdoptionClasses {
    /** Backplane's bundles are named backplane-*; only their own packages, not what they embed. */
    static final String BUNDLE_PREFIX = "backplane-";
    static final String PACKAGES = "/io/backplane";

    private AdoptionClasses() {
    }

    /** Loads them; says how many, for the log. */
    static String preload(BundleContext context) {
        int classes = 0;
        int bundles = 0;
        for (Bundle b : context.getBundles()) {
            String name = b.getSymbolicName();
            if (name == null || !name.startsWith(BUNDLE_PREFIX) || b.getState() != Bundle.ACTIVE) {
                continue;
            }
            Enumeration<URL> entries = b.findEntries(PACKAGES, "*.class", true);
            if (entries == null) {
                continue;
            }
            bundles++;
            while (entries.hasMoreElements()) {
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
        }
        return classes + " classes of " + bundles + " bundles loaded";
    }
}
