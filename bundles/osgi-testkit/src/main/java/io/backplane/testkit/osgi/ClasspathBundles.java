package io.backplane.testkit.osgi;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Bundles found on a module's test class path, for tests that start Felix themselves and install
 * the real bundles by reference. A marker ending in {@code /} names a Backplane module
 * ({@code "bundles/api/"}): its reactor {@code target/classes} (bnd has written the manifest
 * there), its jar in the reactor, or its {@code backplane-<name>} jar from the local repository.
 * Any other marker is a third-party jar's file name prefix ({@code "org.apache.felix.scr"}).
 */
public final class ClasspathBundles {
    private ClasspathBundles() {
    }

    /** The jar or classes directory for {@code marker}; the module under test when the marker names it. */
    public static File find(String marker) {
        boolean module = marker.endsWith("/");
        String repoJar = module ? "/backplane-" + marker.substring(marker.indexOf('/') + 1, marker.length() - 1) + "-" : null;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String path = entry.replace('\\', '/');
            boolean found = module
                    ? (path.contains("/" + marker + "target/") && (path.endsWith("/target/classes") || path.endsWith(".jar")))
                            || (path.contains(repoJar) && path.endsWith(".jar"))
                    : path.contains("/" + marker + "-") && path.endsWith(".jar");
            if (found && Files.exists(Path.of(entry))) {
                return new File(entry);
            }
        }
        // Surefire puts the module under test on the class path as a bare target/classes.
        if (module && Path.of("").toAbsolutePath().endsWith(marker.substring(0, marker.length() - 1))) {
            return new File("target/classes").getAbsoluteFile();
        }
        throw new AssertionError(marker + " is not on the test class path: " + System.getProperty("java.class.path"));
    }

    /**
     * The API bundle's own Export-Package, for the system bundle to export when the test itself
     * calls Backplane's services: the bundles then resolve against the versions they were built with.
     */
    public static String apiExports() throws IOException {
        File api = find("bundles/api/");
        Manifest manifest;
        if (api.isDirectory()) {
            try (InputStream in = Files.newInputStream(api.toPath().resolve("META-INF/MANIFEST.MF"))) {
                manifest = new Manifest(in);
            }
        } else {
            try (JarFile jar = new JarFile(api)) {
                manifest = jar.getManifest();
            }
        }
        return manifest.getMainAttributes().getValue("Export-Package");
    }
}
