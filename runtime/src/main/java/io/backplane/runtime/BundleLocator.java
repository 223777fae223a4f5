package io.backplane.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.feature.ID;

/**
 * Finds the jar of a feature's bundle: first in the launcher's bundle directory (filled by the
 * runtime module's build), then in the local Maven repository.
 */
final class BundleLocator {

    private final Path bundlesDir;
    private final Path mavenRepository;

    BundleLocator(Path bundlesDir, Path mavenRepository) {
        this.bundlesDir = bundlesDir;
        this.mavenRepository = mavenRepository;
    }

    static Path defaultMavenRepository() {
        String configured = System.getProperty("maven.repo.local");
        return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    Path locate(ID id) {
        String file = id.getArtifactId() + "-" + id.getVersion()
                + id.getClassifier().map(c -> "-" + c).orElse("") + "." + id.getType().orElse("jar");
        List<Path> candidates = new ArrayList<>();
        candidates.add(bundlesDir.resolve(file));
        candidates.add(mavenRepository.resolve(id.getGroupId().replace('.', '/'))
                .resolve(id.getArtifactId()).resolve(id.getVersion()).resolve(file));
        for (Path candidate : candidates) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("no jar for bundle " + id + ": looked for " + candidates
                + "; a bundle named in features/ needs a provided-scope dependency in runtime/pom.xml (then rebuild)");
    }
}
