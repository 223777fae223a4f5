package io.backplane.testkit.osgi;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * A framework (Felix, from the test's class path) started for one test: its cache under the
 * test's directory, cleaned at its first init, and the API bundle's packages exported by the
 * system bundle, so the test and the bundles it installs share them.
 */
public final class TestFramework {
    private TestFramework() {
    }

    /**
     * @param cache        the framework's storage directory
     * @param moreExports  system packages to export beside the API's (null: none)
     * @param properties   further framework properties
     */
    public static Framework start(Path cache, String moreExports, Map<String, String> properties) throws BundleException, IOException {
        Map<String, String> props = new HashMap<>(properties);
        props.put(Constants.FRAMEWORK_STORAGE, cache.toString());
        props.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        props.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA,
                ClasspathBundles.apiExports() + (moreExports == null ? "" : "," + moreExports));
        Framework framework = ServiceLoader.load(FrameworkFactory.class).iterator().next().newFramework(props);
        framework.start();
        return framework;
    }
}
