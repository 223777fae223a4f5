package io.backplane.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.feature.FeatureConfiguration;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Hands the features' configurations to ConfigurationAdmin. The system bundle exports
 * {@code org.osgi.service.cm} from the launcher's classpath, so the launcher and the bundles
 * share one ConfigurationAdmin API class.
 */
final class FeatureConfigurations {

    private FeatureConfigurations() {
    }

    /**
     * Applies every configuration, and, when {@code etcDir} is given, a second FileInstall
     * watcher (FileInstall's factory configuration) applying the {@code *.cfg} files there;
     * returns how many configurations the features carried.
     */
    static int apply(BundleContext context, Map<String, FeatureConfiguration> configurations, Path etcDir, Path stateDir)
            throws IOException, InterruptedException {
        if (configurations.isEmpty() && etcDir == null) {
            return 0;
        }
        ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> tracker = new ServiceTracker<>(context, ConfigurationAdmin.class, null);
        tracker.open();
        try {
            ConfigurationAdmin admin = tracker.waitForService(TimeUnit.SECONDS.toMillis(10));
            if (admin == null) {
                throw new IOException("the features carry configurations but no ConfigurationAdmin service started at start-order 1"
                        + " (give org.apache.felix.configadmin \"start-order\": 1)");
            }
            for (FeatureConfiguration configuration : configurations.values()) {
                String pid = configuration.getPid();
                // "?" binds the configuration to whichever bundle's component asks for the pid.
                Configuration target = configuration.getFactoryPid().isPresent()
                        ? admin.getFactoryConfiguration(configuration.getFactoryPid().get(), pid.substring(pid.indexOf('~') + 1), "?")
                        : admin.getConfiguration(pid, "?");
                target.update(new Hashtable<>(configuration.getValues()));
            }
            if (etcDir != null) {
                Hashtable<String, Object> watcher = new Hashtable<>();
                watcher.put("felix.fileinstall.dir", etcDir.toString());
                watcher.put("felix.fileinstall.tmpdir", stateDir.resolve("fileinstall-etc").toString());
                watcher.put("felix.fileinstall.filter", ".*\\.cfg");
                watcher.put("felix.fileinstall.poll", "1000");
                watcher.put("felix.fileinstall.noInitialDelay", "true");
                watcher.put("felix.fileinstall.log.level", "3");
                admin.getFactoryConfiguration("org.apache.felix.fileinstall", "etc", "?").update(watcher);
            }
            return configurations.size();
        } finally {
            tracker.close();
        }
    }
}
