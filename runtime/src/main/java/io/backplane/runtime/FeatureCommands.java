package io.backplane.runtime;

import java.lang.reflect.Method;
import java.nio.file.Path;

/**
 * The {@code feature:} scope, registered by the launcher on the system bundle (Gogo calls it by
 * reflection). The launcher cannot see Gogo's classes, so {@code install} takes the session as
 * the {@link AutoCloseable} it is (Gogo passes the session to a first parameter of an interface it
 * implements) and asks it for the shell's working directory; the descriptions shown by
 * {@code bp:help} live with the control bundle's descriptions of foreign commands.
 */
public final class FeatureCommands {

    static final String SCOPE = "feature";
    static final String[] FUNCTIONS = {"list", "install", "uninstall"};
    private static final String INSTALL_USAGE = "usage: feature:install NAME|FILE  (a feature of the features directory,"
            + " as feature:list names it, or the path of an OSGi Feature JSON descriptor)";
    private static final String UNINSTALL_USAGE = "usage: feature:uninstall NAME  (an installed feature, as feature:list names it)";

    private final RuntimeFeatures features;

    FeatureCommands(RuntimeFeatures features) {
        this.features = features;
    }

    public String list() throws Exception {
        return features.list();
    }

    public String install() {
        throw new IllegalArgumentException(INSTALL_USAGE);
    }

    public String install(AutoCloseable session, String feature) throws Exception {
        return features.install(feature, currentDir(session));
    }

    public String uninstall() {
        throw new IllegalArgumentException(UNINSTALL_USAGE);
    }

    public String uninstall(String feature) throws Exception {
        return features.uninstall(feature);
    }

    /** CommandSession.currentDir(), looked up on the session's own interface; the runtime's directory without one. */
    private static Path currentDir(AutoCloseable session) {
        for (Class<?> type : session.getClass().getInterfaces()) {
            try {
                Method m = type.getMethod("currentDir");
                if (m.getReturnType() == Path.class && m.invoke(session) instanceof Path dir) {
                    return dir;
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                // not the session interface
            }
        }
        return Path.of("").toAbsolutePath();
    }
}
