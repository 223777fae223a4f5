package io.backplane.runtime;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;

import org.osgi.service.feature.Feature;
import org.osgi.service.feature.FeatureBundle;
import org.osgi.service.feature.FeatureConfiguration;
import org.osgi.service.feature.FeatureExtension;
import org.osgi.service.feature.FeatureService;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

/**
 * The OSGi Feature descriptors (OSGi Compendium 159, JSON) in {@code features/}, read with the
 * Feature Service implementation, and merged into what the launcher installs:
 * <ul>
 * <li>bundles, each with the {@code "start-order"} metadata (start level, default 1);</li>
 * <li>configurations, applied through ConfigurationAdmin before components start;</li>
 * <li>the {@code framework-launching-properties} extension (as named by the OSGi Feature
 * Launcher specification): framework properties.</li>
 * </ul>
 * A bundle listed by several features is installed once, at the lowest start order given.
 * Public so the Pax Exam itests boot exactly the bundles the launcher would.
 */
public final class FeatureSet {

    static final String START_ORDER = "start-order";
    static final String FRAMEWORK_PROPERTIES = "framework-launching-properties";

    /** A bundle to install, at its start level. */
    public record Bundle(String id, Path jar, int startOrder) {
    }

    private final List<String> names = new ArrayList<>();
    private final Map<String, Bundle> bundles = new LinkedHashMap<>();
    private final Map<String, FeatureConfiguration> configurations = new LinkedHashMap<>();
    private final Map<String, String> frameworkProperties = new LinkedHashMap<>();

    private FeatureSet() {
    }

    /**
     * One feature descriptor as read from its file: its name (the artifact id of its {@code id},
     * as {@code feature:list} shows it), its bundles, configurations and framework properties.
     */
    public record Descriptor(String name, Path file, List<Bundle> bundles, Map<String, FeatureConfiguration> configurations,
                             Map<String, String> frameworkProperties) {
    }

    /** The features in {@code featuresDir}, their bundles found in {@code bundlesDir} or the local Maven repository. */
    public static FeatureSet load(Path featuresDir, Path bundlesDir) throws IOException {
        return load(featuresDir, new BundleLocator(bundlesDir, BundleLocator.defaultMavenRepository()));
    }

    static FeatureSet load(Path featuresDir, BundleLocator locator) throws IOException {
        List<Path> files = descriptorFiles(featuresDir);
        if (files.isEmpty()) {
            throw new IOException("no feature descriptors (*.json) in " + featuresDir);
        }
        List<Descriptor> descriptors = new ArrayList<>();
        for (Path file : files) {
            descriptors.add(read(file, locator));
        }
        return of(descriptors);
    }

    /** The descriptor files ({@code *.json}) in {@code featuresDir}, sorted by name. */
    static List<Path> descriptorFiles(Path featuresDir) throws IOException {
        if (!Files.isDirectory(featuresDir)) {
            throw new IOException("feature directory " + featuresDir + " does not exist");
        }
        try (Stream<Path> list = Files.list(featuresDir)) {
            return list.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        }
    }

    /** Reads one descriptor file; an IOException names the file and what is wrong with it. */
    static Descriptor read(Path file, BundleLocator locator) throws IOException {
        FeatureService service = ServiceLoader.load(FeatureService.class, FeatureSet.class.getClassLoader()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi Feature Service implementation on the launcher classpath"));
        Feature feature;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            feature = service.readFeature(reader);
        } catch (RuntimeException | IOException e) {
            throw new IOException("feature descriptor " + file + " is not valid: " + e.getMessage(), e);
        }
        List<Bundle> bundles = new ArrayList<>();
        for (FeatureBundle bundle : feature.getBundles()) {
            bundles.add(new Bundle(bundle.getID().toString(), locator.locate(bundle.getID()), startOrder(file, bundle)));
        }
        Map<String, String> properties = new LinkedHashMap<>();
        FeatureExtension extension = feature.getExtensions().get(FRAMEWORK_PROPERTIES);
        if (extension != null) {
            if (extension.getType() != FeatureExtension.Type.JSON) {
                throw new IOException(file + ": extension " + FRAMEWORK_PROPERTIES + " must be of type json");
            }
            JsonObject json = Json.createReader(new StringReader(extension.getJSON())).readObject();
            json.forEach((key, value) -> properties.put(key, text(value)));
        }
        return new Descriptor(feature.getID().getArtifactId(), file, List.copyOf(bundles),
                new LinkedHashMap<>(feature.getConfigurations()), properties);
    }

    /** The merge of {@code descriptors}, in their order. */
    static FeatureSet of(List<Descriptor> descriptors) {
        FeatureSet set = new FeatureSet();
        descriptors.forEach(set::add);
        return set;
    }

    private void add(Descriptor feature) {
        names.add(feature.name());
        for (Bundle bundle : feature.bundles()) {
            Bundle known = bundles.get(bundle.id());
            if (known == null || bundle.startOrder() < known.startOrder()) {
                bundles.put(bundle.id(), bundle);
            }
        }
        configurations.putAll(feature.configurations());
        frameworkProperties.putAll(feature.frameworkProperties());
    }

    private static int startOrder(Path file, FeatureBundle bundle) throws IOException {
        Object order = bundle.getMetadata().get(START_ORDER);
        if (order == null) {
            return 1;
        }
        try {
            int level = order instanceof Number n ? n.intValue() : Integer.parseInt(order.toString().trim());
            if (level < 1) {
                throw new NumberFormatException();
            }
            return level;
        } catch (NumberFormatException e) {
            throw new IOException(file + ": bundle " + bundle.getID() + " has start-order '" + order + "'; use a number from 1");
        }
    }

    private static String text(JsonValue value) {
        return value instanceof JsonString s ? s.getString() : value.toString();
    }

    public List<String> names() {
        return names;
    }

    /** Bundles ordered by start order, then as listed. */
    public List<Bundle> bundles() {
        return bundles.values().stream().sorted(Comparator.comparingInt(Bundle::startOrder)).toList();
    }

    public Map<String, FeatureConfiguration> configurations() {
        return configurations;
    }

    public Map<String, String> frameworkProperties() {
        return frameworkProperties;
    }

    public int highestStartOrder() {
        return bundles.values().stream().mapToInt(Bundle::startOrder).max().orElse(1);
    }
}
