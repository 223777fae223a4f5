package io.backplane.runtime;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.framework.wiring.BundleRevision;

/**
 * One Felix instance running the features: installs their bundles at their start levels, brings
 * the framework up level by level (configurations go in once ConfigurationAdmin is up, before the
 * components that read them start) and stops it cleanly, removing any socket a bundle left.
 */
final class BackplaneFramework {

    static final String STATE_DIR_PROPERTY = "backplane.state.dir";
    /** The install root (release) or checkout root: what every relative path of the runtime resolves against. */
    static final String HOME_PROPERTY = "backplane.home";
    /** The guest program's jar, for the toolstack's guest command ({guest.jar}). */
    static final String GUEST_JAR_PROPERTY = "backplane.guest.jar";
    /** Felix SCR's wait for a component's lock, in milliseconds. */
    static final String SCR_LOCK_TIMEOUT_PROPERTY = "ds.lock.timeout.milliseconds";

    private final LaunchOptions options;
    private final FeatureSet features;
    private final PrintStream out;
    private final SystemdNotifier systemd;
    private final Map<Bundle, String> startFailures = new ConcurrentHashMap<>();
    private final Object shutdownLock = new Object();
    private Framework framework;
    private boolean shutDown;

    BackplaneFramework(LaunchOptions options, FeatureSet features, PrintStream out, SystemdNotifier systemd) {
        this.options = options;
        this.features = features;
        this.out = out;
        this.systemd = systemd;
    }

    Map<String, String> frameworkProperties() {
        Map<String, String> properties = new HashMap<>(features.frameworkProperties());
        properties.put(STATE_DIR_PROPERTY, options.stateDir().toString());
        properties.put(HOME_PROPERTY, options.home().toString());
        properties.put(GUEST_JAR_PROPERTY, options.guestJar().toString());
        properties.put(Constants.FRAMEWORK_STORAGE, options.stateDir().resolve("felix-cache").toString());
        // Every start installs exactly what the features say; nothing lingers from the last run.
        properties.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        properties.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, "1");
        // SCR gives up on a component whose lock it waits for longer than this (default 5 s) and
        // leaves it unsatisfied for good; a dom0 under emulation or load can take that long to
        // activate the hypervisor services, which then cost blkback and netback their drivers.
        properties.putIfAbsent(SCR_LOCK_TIMEOUT_PROPERTY, "60000");
        String extra = properties.get(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA);
        properties.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA,
                (extra == null || extra.isBlank() ? "" : extra + ",") + "org.osgi.service.cm;version=1.6.1");
        // Hot deployment: this instance's own deploy and scratch directories (two instances must
        // not share FileInstall state, see the stack's pitfalls).
        properties.put("felix.fileinstall.dir", options.deployDir().toString());
        properties.put("felix.fileinstall.tmpdir", options.stateDir().resolve("fileinstall").toString());
        return properties;
    }

    void start() throws Exception {
        Files.createDirectories(options.deployDir());
        Path etc = options.etcDir() != null && Files.isDirectory(options.etcDir()) ? options.etcDir() : null;
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, getClass().getClassLoader()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the launcher classpath"));
        framework = factory.newFramework(frameworkProperties());
        framework.init();
        BundleContext context = framework.getBundleContext();
        context.addFrameworkListener(event -> {
            if (event.getType() == FrameworkEvent.ERROR && event.getBundle() != null) {
                startFailures.put(event.getBundle(), oneLine(event.getThrowable()));
            }
        });
        List<FeatureSet.Bundle> bundles = features.bundles();
        out.printf("installing %d bundles from feature%s %s%n", bundles.size(), features.names().size() == 1 ? "" : "s",
                String.join(", ", features.names()));
        for (FeatureSet.Bundle entry : bundles) {
            Bundle bundle = context.installBundle(entry.jar().toUri().toString());
            bundle.adapt(BundleStartLevel.class).setStartLevel(entry.startOrder());
            if (!isFragment(bundle)) {
                bundle.start(); // persistently marked; it starts when the framework reaches its level
            }
        }
        framework.start();
        raiseStartLevel(1);
        int configured = FeatureConfigurations.apply(context, features.configurations(), etc, options.stateDir());
        if (configured > 0) {
            out.printf("applied %d configuration%s%n", configured, configured == 1 ? "" : "s");
        }
        for (int level = 2; level <= features.highestStartOrder(); level++) {
            raiseStartLevel(level);
        }
    }

    /** Registers the {@code feature:} commands over {@code features} on the system bundle. */
    void serveFeatureCommands(RuntimeFeatures features) {
        BundleContext context = framework.getBundleContext();
        features.attach(context);
        java.util.Hashtable<String, Object> props = new java.util.Hashtable<>();
        props.put("osgi.command.scope", FeatureCommands.SCOPE);
        props.put("osgi.command.function", FeatureCommands.FUNCTIONS);
        context.registerService(Object.class.getName(), new FeatureCommands(features), props);
    }

    private void raiseStartLevel(int level) throws InterruptedException {
        FrameworkStartLevel startLevel = framework.adapt(FrameworkStartLevel.class);
        if (startLevel.getStartLevel() < level) {
            CountDownLatch reached = new CountDownLatch(1);
            startLevel.setStartLevel(level, event -> reached.countDown());
            if (!reached.await(2, TimeUnit.MINUTES)) {
                throw new IllegalStateException("start level " + level + " not reached within 2 minutes");
            }
        }
        long started = Arrays.stream(framework.getBundleContext().getBundles())
                .filter(b -> b.adapt(BundleStartLevel.class).getStartLevel() == level && b.getState() == Bundle.ACTIVE).count();
        out.printf("start level %d: %d bundle%s active%n", level, started, started == 1 ? "" : "s");
    }

    long activeBundles() {
        return Arrays.stream(framework.getBundleContext().getBundles()).filter(b -> b.getState() == Bundle.ACTIVE).count();
    }

    /** One line per installed bundle that should run and does not, with the reason when known. */
    List<String> problems() {
        List<String> problems = new ArrayList<>();
        for (Bundle bundle : framework.getBundleContext().getBundles()) {
            if (bundle.getState() != Bundle.ACTIVE && !isFragment(bundle)) {
                String reason = startFailures.get(bundle);
                if (reason == null) {
                    try {
                        bundle.start();
                        continue;
                    } catch (BundleException e) {
                        reason = oneLine(e);
                    }
                }
                problems.add(bundle.getSymbolicName() + " " + bundle.getVersion() + " is not active: " + reason);
            }
        }
        return problems;
    }

    void awaitStop() throws InterruptedException {
        framework.waitForStop(0);
    }

    /** Stops every bundle (highest start level first) and removes sockets left behind. Idempotent. */
    void shutdown() {
        synchronized (shutdownLock) {
            if (shutDown) {
                return;
            }
            shutDown = true;
            String unheard = systemd.send("STOPPING=1", "STATUS=stopping bundles");
            if (unheard != null) {
                out.println("warning: " + unheard);
            }
            if (framework != null && (framework.getState() & (Bundle.STARTING | Bundle.ACTIVE)) != 0) {
                out.println("Backplane stopping: stopping bundles");
                try {
                    framework.stop();
                    FrameworkEvent stopped = framework.waitForStop(TimeUnit.SECONDS.toMillis(30));
                    if (stopped.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                        out.println("warning: bundles still stopping after 30 s; exiting anyway");
                    }
                } catch (BundleException | InterruptedException e) {
                    out.println("warning: stopping the framework failed: " + oneLine(e));
                }
            }
            // A bundle should remove its own sockets on stop; say so when one did not.
            removeSockets(options.stateDir(), out, "that a stopped bundle left behind");
            out.println("Backplane stopped");
        }
    }

    /** Removes every socket file under {@code stateDir}, one warning line each saying {@code why}. */
    static void removeSockets(Path stateDir, PrintStream out, String why) {
        if (!Files.isDirectory(stateDir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(stateDir)) {
            for (Path socket : files.filter(BackplaneFramework::isSocket).toList()) {
                out.println("warning: removing socket " + socket + " " + why);
                Files.deleteIfExists(socket);
            }
        } catch (IOException e) {
            out.println("warning: cannot check " + stateDir + " for leftover sockets: " + e.getMessage());
        }
    }

    private static boolean isSocket(Path file) {
        try {
            return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther();
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isFragment(Bundle bundle) {
        BundleRevision revision = bundle.adapt(BundleRevision.class);
        return revision != null && (revision.getTypes() & BundleRevision.TYPE_FRAGMENT) != 0;
    }

    static String oneLine(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        if (t instanceof java.nio.file.FileSystemException fs) {
            // Their message is often just the path; say what went wrong with it.
            String reason = fs.getReason() != null ? fs.getReason()
                    : t instanceof java.nio.file.AccessDeniedException ? "permission denied" : t.getClass().getSimpleName();
            return "cannot use " + fs.getFile() + ": " + reason;
        }
        String message = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
        return message.replace('\n', ' ');
    }
}
