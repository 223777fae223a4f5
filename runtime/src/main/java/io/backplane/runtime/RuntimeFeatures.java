package io.backplane.runtime;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * Which features run, and changing that at runtime as Karaf's {@code feature:} commands do.
 * Every descriptor in {@code features/} is installed at start, except those uninstalled at
 * runtime; descriptors installed from a file elsewhere are added. Both lists are kept in the state
 * directory ({@value #STATE_FILE}), so what an operator changed survives a restart. Installing
 * adds bundles and never refreshes others, so no device a feature does not concern is touched;
 * uninstalling removes the bundles no other installed feature lists, and refreshes only them.
 */
final class RuntimeFeatures {

    /** In the state directory: the features uninstalled from features/ and those installed from other files. */
    static final String STATE_FILE = "features.state";
    private static final String UNINSTALLED = "uninstalled ";
    private static final String INSTALLED = "installed ";
    /** Bundles that carry the shell: uninstalling them would cut the command off mid-way. */
    private static final Set<String> SHELL_BUNDLES = Set.of("backplane-control", "org.apache.felix.gogo.runtime");

    private final Path featuresDir;
    private final Path stateFile;
    private final BundleLocator locator;
    private final Set<String> uninstalled = new LinkedHashSet<>();
    private final Set<Path> installedFiles = new LinkedHashSet<>();
    /** The features running now, by name (set by {@link #startSet}, then changed by install and uninstall). */
    private final Map<String, FeatureSet.Descriptor> running = new LinkedHashMap<>();
    private BundleContext context;

    RuntimeFeatures(Path featuresDir, Path stateDir, BundleLocator locator) {
        this.featuresDir = featuresDir.toAbsolutePath().normalize();
        this.stateFile = stateDir.resolve(STATE_FILE);
        this.locator = locator;
    }

    /**
     * What this start installs: the descriptors in features/ but those uninstalled at runtime, then
     * those installed from other files. A recorded file that is gone or broken is left out with a warning.
     */
    synchronized FeatureSet startSet(PrintStream out) throws IOException {
        readState();
        List<Path> files = FeatureSet.descriptorFiles(featuresDir);
        if (files.isEmpty()) {
            throw new IOException("no feature descriptors (*.json) in " + featuresDir);
        }
        List<FeatureSet.Descriptor> start = new ArrayList<>();
        for (Path file : files) {
            FeatureSet.Descriptor d = FeatureSet.read(file, locator);
            if (!uninstalled.contains(d.name())) {
                start.add(d);
            }
        }
        for (Path file : installedFiles) {
            try {
                start.add(FeatureSet.read(file, locator));
            } catch (IOException | RuntimeException e) {
                out.println("warning: feature installed from " + file + " left out: " + BackplaneFramework.oneLine(e));
            }
        }
        if (!uninstalled.isEmpty() || !installedFiles.isEmpty()) {
            out.println("features changed at runtime (" + stateFile + "): " + describeChanges());
        }
        start.forEach(d -> running.put(d.name(), d));
        return FeatureSet.of(start);
    }

    /** The framework the features run in, once started. */
    synchronized void attach(BundleContext context) {
        this.context = context;
    }

    /** {@code feature:list}: every feature of features/ and every one installed from a file, with its state and bundles. */
    synchronized String list() throws IOException {
        Map<String, FeatureSet.Descriptor> all = new TreeMap<>();
        for (Path file : FeatureSet.descriptorFiles(featuresDir)) {
            try {
                FeatureSet.Descriptor d = FeatureSet.read(file, locator);
                all.put(d.name(), d);
            } catch (IOException | RuntimeException e) {
                all.putIfAbsent(file.getFileName().toString(), null);
            }
        }
        all.putAll(running);
        StringBuilder out = new StringBuilder(String.format("%-28s %-12s %s%n", "NAME", "STATE", "BUNDLES"));
        for (Map.Entry<String, FeatureSet.Descriptor> e : all.entrySet()) {
            FeatureSet.Descriptor d = e.getValue();
            String state = d == null ? "unreadable" : running.containsKey(e.getKey()) ? state(d) : "uninstalled";
            String bundles = d == null ? "(feature:install " + featuresDir.resolve(e.getKey()) + " says why)"
                    : d.bundles().stream().map(RuntimeFeatures::artifact).collect(Collectors.joining(", "));
            String from = d != null && !d.file().getParent().equals(featuresDir) ? "  (from " + d.file() + ")" : "";
            out.append(String.format("%-28s %-12s %s%s%n", e.getKey(), state, bundles, from));
        }
        return out.toString();
    }

    /**
     * {@code feature:install}: a feature of features/ by name, or a descriptor file ({@code .json},
     * relative to {@code cwd}). Installs and starts the bundles not yet installed, after applying
     * its configurations; remembers it for the next starts.
     */
    synchronized String install(String what, Path cwd) throws Exception {
        FeatureSet.Descriptor d = find(what, cwd);
        if (running.containsKey(d.name())) {
            throw new IllegalArgumentException("feature " + d.name() + " is already installed (" + state(running.get(d.name())) + ")");
        }
        BundleContext ctx = requireFramework();
        List<Bundle> added = new ArrayList<>();
        try {
            for (FeatureSet.Bundle b : d.bundles()) {
                if (installed(b).isEmpty()) {
                    Bundle bundle = ctx.installBundle(location(b));
                    bundle.adapt(BundleStartLevel.class).setStartLevel(b.startOrder());
                    added.add(bundle);
                }
            }
            FeatureConfigurations.apply(ctx, d.configurations(), null, stateFile.getParent());
            raiseStartLevel(ctx, d.bundles().stream().mapToInt(FeatureSet.Bundle::startOrder).max().orElse(1));
            for (Bundle bundle : added) {
                if (!isFragment(bundle)) {
                    bundle.start();
                }
            }
        } catch (BundleException | RuntimeException e) {
            for (Bundle bundle : added) {
                try {
                    bundle.uninstall();
                } catch (BundleException | IllegalStateException ignored) {
                    // already gone
                }
            }
            throw new IllegalStateException("feature " + d.name() + " not installed: " + BackplaneFramework.oneLine(e), e);
        }
        running.put(d.name(), d);
        if (d.file().getParent().equals(featuresDir)) {
            uninstalled.remove(d.name());
        } else {
            installedFiles.add(d.file());
        }
        writeState();
        String note = d.frameworkProperties().isEmpty() ? ""
                : "; its framework properties (" + String.join(", ", d.frameworkProperties().keySet()) + ") apply from the next start";
        return "feature " + d.name() + " installed: " + added.size() + " of " + d.bundles().size() + " bundles new, "
                + state(d) + note + "\n";
    }

    /** {@code feature:uninstall}: stops and uninstalls the feature's bundles that no other installed feature lists. */
    synchronized String uninstall(String name) throws Exception {
        FeatureSet.Descriptor d = running.get(name);
        if (d == null) {
            throw new IllegalArgumentException("feature " + name + " is not installed (installed: "
                    + String.join(", ", running.keySet()) + ")");
        }
        Optional<String> shell = d.bundles().stream().map(RuntimeFeatures::artifact).filter(SHELL_BUNDLES::contains).findFirst();
        if (shell.isPresent()) {
            throw new IllegalArgumentException("feature " + name + " holds the shell itself (" + shell.get()
                    + "); to run without it, move its file out of " + featuresDir + " and restart");
        }
        BundleContext ctx = requireFramework();
        Set<String> kept = new LinkedHashSet<>();
        running.values().stream().filter(other -> other != d).forEach(other -> other.bundles().forEach(b -> kept.add(location(b))));
        List<FeatureSet.Bundle> order = new ArrayList<>(d.bundles());
        java.util.Collections.reverse(order); // the last listed goes first, then by start order, highest first
        order.sort(Comparator.comparingInt(FeatureSet.Bundle::startOrder).reversed());
        List<Bundle> removed = new ArrayList<>();
        for (FeatureSet.Bundle b : order) {
            if (kept.contains(location(b))) {
                continue;
            }
            Optional<Bundle> bundle = installed(b);
            if (bundle.isPresent()) {
                bundle.get().uninstall(); // stops it first: its services go, their users move off them
                removed.add(bundle.get());
            }
        }
        refresh(ctx, removed);
        running.remove(name);
        if (d.file().getParent().equals(featuresDir)) {
            uninstalled.add(name);
        } else {
            installedFiles.remove(d.file());
        }
        writeState();
        int shared = d.bundles().size() - removed.size();
        return "feature " + name + " uninstalled: " + (removed.isEmpty() ? "no bundle removed" : removed.size() + " bundle"
                + (removed.size() == 1 ? "" : "s") + " removed (" + removed.stream().map(Bundle::getSymbolicName)
                .collect(Collectors.joining(", ")) + ")") + (shared > 0 ? ", " + shared + " kept for other features" : "") + "\n";
    }

    private FeatureSet.Descriptor find(String what, Path cwd) throws IOException {
        if (what == null || what.isBlank()) {
            throw new IllegalArgumentException("name a feature (feature:list shows them) or a descriptor file");
        }
        boolean isFile = what.endsWith(".json") || what.contains("/");
        if (isFile) {
            Path file = cwd.resolve(what).toAbsolutePath().normalize();
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("no feature descriptor file " + file);
            }
            return readOrExplain(file);
        }
        for (Path file : FeatureSet.descriptorFiles(featuresDir)) {
            FeatureSet.Descriptor d;
            try {
                d = FeatureSet.read(file, locator);
            } catch (IOException | RuntimeException e) {
                continue; // another file's trouble; it is named when asked for by its path
            }
            if (d.name().equals(what)) {
                return d;
            }
        }
        FeatureSet.Descriptor installedAs = running.get(what);
        if (installedAs != null) {
            return installedAs;
        }
        throw new IllegalArgumentException("no feature named " + what + " in " + featuresDir + " (feature:list shows them;"
                + " a descriptor elsewhere is installed by its path)");
    }

    private FeatureSet.Descriptor readOrExplain(Path file) {
        try {
            return FeatureSet.read(file, locator);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(BackplaneFramework.oneLine(e));
        }
    }

    private BundleContext requireFramework() {
        if (context == null) {
            throw new IllegalStateException("the framework is not running");
        }
        return context;
    }

    private Optional<Bundle> installed(FeatureSet.Bundle b) {
        String location = location(b);
        return Arrays.stream(context.getBundles()).filter(x -> location.equals(x.getLocation())).findFirst();
    }

    private static String location(FeatureSet.Bundle b) {
        return b.jar().toUri().toString();
    }

    /** {@code installed}, or {@code installed (1 of 2 bundles not active: x)}. */
    private String state(FeatureSet.Descriptor d) {
        if (context == null) {
            return "installed";
        }
        List<String> down = new ArrayList<>();
        for (FeatureSet.Bundle b : d.bundles()) {
            Optional<Bundle> bundle = installed(b);
            if (bundle.isEmpty() || (bundle.get().getState() != Bundle.ACTIVE && !isFragment(bundle.get()))) {
                down.add(artifact(b));
            }
        }
        return down.isEmpty() ? "installed" : "installed (" + down.size() + " of " + d.bundles().size()
                + " bundles not active: " + String.join(", ", down) + ")";
    }

    /** {@code io.backplane:backplane-ring-map:0.1.0-SNAPSHOT} -> {@code backplane-ring-map}. */
    private static String artifact(FeatureSet.Bundle b) {
        String[] parts = b.id().split(":");
        return parts.length > 1 ? parts[1] : b.id();
    }

    private static void raiseStartLevel(BundleContext ctx, int level) throws InterruptedException {
        FrameworkStartLevel startLevel = ctx.getBundle(0).adapt(FrameworkStartLevel.class);
        if (startLevel.getStartLevel() < level) {
            CountDownLatch reached = new CountDownLatch(1);
            startLevel.setStartLevel(level, event -> reached.countDown());
            reached.await(2, TimeUnit.MINUTES);
        }
    }

    private static void refresh(BundleContext ctx, List<Bundle> bundles) throws InterruptedException {
        if (bundles.isEmpty()) {
            return;
        }
        CountDownLatch refreshed = new CountDownLatch(1);
        ctx.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(bundles, event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                refreshed.countDown();
            }
        });
        refreshed.await(2, TimeUnit.MINUTES);
    }

    private static boolean isFragment(Bundle bundle) {
        BundleRevision revision = bundle.adapt(BundleRevision.class);
        return revision != null && (revision.getTypes() & BundleRevision.TYPE_FRAGMENT) != 0;
    }

    private String describeChanges() {
        List<String> parts = new ArrayList<>();
        uninstalled.forEach(n -> parts.add("without " + n));
        installedFiles.forEach(f -> parts.add("with " + f));
        return String.join(", ", parts);
    }

    private void readState() throws IOException {
        uninstalled.clear();
        installedFiles.clear();
        if (!Files.isRegularFile(stateFile)) {
            return;
        }
        for (String line : Files.readAllLines(stateFile, StandardCharsets.UTF_8)) {
            if (line.startsWith(UNINSTALLED)) {
                uninstalled.add(line.substring(UNINSTALLED.length()).trim());
            } else if (line.startsWith(INSTALLED)) {
                installedFiles.add(Path.of(line.substring(INSTALLED.length()).trim()));
            }
        }
    }

    /** Written whole to a temporary file and moved over the old one, so a crash leaves one or the other. */
    private void writeState() throws IOException {
        StringBuilder text = new StringBuilder("# Features changed at runtime by feature:install and feature:uninstall;"
                + " read at every start.\n");
        uninstalled.forEach(n -> text.append(UNINSTALLED).append(n).append('\n'));
        installedFiles.forEach(f -> text.append(INSTALLED).append(f).append('\n'));
        Path tmp = stateFile.resolveSibling(STATE_FILE + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, stateFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
