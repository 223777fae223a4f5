package io.backplane.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.frameworkStartLevel;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.ops4j.pax.exam.Option;

import io.backplane.runtime.FeatureSet;

/**
 * Pax Exam options that boot what {@code backplane run} boots: every bundle the feature
 * descriptors in {@code features/} name, at its start order, with the features' framework
 * properties, and a fresh state directory. Runs in the test JVM, outside the framework.
 */
final class BackplaneOptions {

    static final String STATE_DIR_PROPERTY = "backplane.state.dir";
    /** The guest program, as the reactor builds it (the toolstack's guestCommand starts it). */
    private static final String GUEST_JAR = "bundles/guest/target/backplane-guest-0.1.0-SNAPSHOT-runnable.jar";

    /** The checkout the itests run in (features/ lives at its root). */
    static Path repository() {
        return Path.of(System.getProperty("backplane.features", "../features")).toAbsolutePath().getParent();
    }

    /**
     * The toolstack's {@code guestCommand} starting the reactor's guest program with {@code guestArgs}
     * (e.g. {@code --vbd WORKLOAD}); fails when the program is not built.
     */
    static String guestCommand(String guestArgs) {
        Path jar = repository().resolve(GUEST_JAR);
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("the guest program is built: " + jar);
        }
        return "{java} -jar " + jar + " --state-dir {state} --domid {domid} " + guestArgs;
    }

    private BackplaneOptions() {
    }

    static Option[] runtime() throws IOException {
        FeatureSet features = FeatureSet.load(Path.of(System.getProperty("backplane.features", "../features")),
                Path.of(System.getProperty("backplane.bundles", "../runtime/target/bundles")));
        // Under target/ so a clean removes it; keep it short, Unix socket paths are limited to 107 bytes.
        Path root = Path.of(System.getProperty("backplane.itest.dir", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(root);
        Path stateDir = Files.createTempDirectory(root, "state-");
        List<Option> options = new ArrayList<>();
        for (FeatureSet.Bundle bundle : features.bundles()) {
            options.add(bundle(bundle.jar().toUri().toString()).startLevel(bundle.startOrder()).start());
        }
        features.frameworkProperties().forEach((key, value) -> options.add(frameworkProperty(key).value(value)));
        options.add(frameworkProperty(STATE_DIR_PROPERTY).value(stateDir.toString()));
        options.add(frameworkProperty("felix.fileinstall.dir").value(stateDir.resolve("deploy").toString()));
        options.add(frameworkStartLevel(features.highestStartOrder() + 10));
        options.add(junitBundles());
        options.add(cleanCaches(true));
        // The features' ConfigAdmin configurations are not applied here: the components under test
        // must come up on their metatype defaults (the launcher applies them; LauncherIT covers that).
        return options.toArray(new Option[0]);
    }
}
