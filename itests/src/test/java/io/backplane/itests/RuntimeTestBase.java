package io.backplane.itests;

import java.io.IOException;
import java.nio.file.Path;
import javax.inject.Inject;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * What every IT here starts from: the runtime's bundles in Felix ({@link BackplaneOptions#runtime}),
 * the framework and ConfigurationAdmin injected (Pax Exam injects a superclass's fields too), the
 * runtime's state directory and its shell.
 */
public abstract class RuntimeTestBase {
    @Inject
    protected BundleContext context;
    @Inject
    protected ConfigurationAdmin configAdmin;

    @Configuration
    public Option[] config() throws IOException {
        return BackplaneOptions.runtime();
    }

    protected Path stateDir() {
        return Path.of(context.getProperty(BackplaneOptions.STATE_DIR_PROPERTY));
    }

    /** Runs a shell command that must succeed, as {@code ./backplane shell} would; returns its output. */
    protected String shell(String command) throws IOException {
        return new RuntimeShell(stateDir()).ok(command);
    }
}
