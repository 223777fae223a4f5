package io.backplane.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Feature descriptors read with the real Feature Service implementation. */
class FeatureSetTest {

    @TempDir
    Path features;
    @TempDir
    Path bundles;
    @TempDir
    Path maven;

    private FeatureSet load() throws IOException {
        return FeatureSet.load(features, new BundleLocator(bundles, maven));
    }

    private void feature(String name, String bundlesJson, String extra) throws IOException {
        Files.writeString(features.resolve(name + ".json"), "{ \"feature-resource-version\": \"1.0\", \"id\": \"io.backplane:" + name
                + ":osgifeature:1.0\", \"bundles\": [" + bundlesJson + "]" + extra + "}");
    }

    @Test
    void mergesFeaturesOrdersByStartOrderAndKeepsTheLowestOrderOfADuplicate() throws IOException {
        for (String jar : new String[] {"a-1.jar", "b-2.jar", "c-3.jar"}) {
            Files.createFile(bundles.resolve(jar));
        }
        feature("one", "{\"id\": \"g:a:1\", \"start-order\": 3}, {\"id\": \"g:b:2\"}",
                ", \"configurations\": {\"io.backplane.x\": {\"queues:Integer\": 4, \"name\": \"vif\"}, \"f~one\": {\"k\": true}},"
                        + " \"extensions\": {\"framework-launching-properties\": {\"type\": \"json\", \"json\": {\"p\": \"v\", \"n\": 2}}}");
        feature("two", "{\"id\": \"g:c:3\", \"start-order\": 2}, {\"id\": \"g:a:1\", \"start-order\": 2}", "");
        FeatureSet set = load();
        assertThat(set.names()).containsExactly("one", "two");
        assertThat(set.bundles()).extracting(FeatureSet.Bundle::id).containsExactly("g:b:2", "g:a:1", "g:c:3");
        assertThat(set.bundles()).extracting(FeatureSet.Bundle::startOrder).containsExactly(1, 2, 2);
        assertThat(set.highestStartOrder()).isEqualTo(2);
        assertThat(set.configurations().get("io.backplane.x").getValues()).containsEntry("queues", 4).containsEntry("name", "vif");
        assertThat(set.configurations().get("f~one").getFactoryPid()).contains("f");
        assertThat(set.frameworkProperties()).containsEntry("p", "v").containsEntry("n", "2");
    }

    @Test
    void readinessWaitsForTheEmbeddedXenStoreOnlyWhenItIsEmbedded() throws IOException {
        Files.createFile(bundles.resolve("backplane-xenstore-1.jar"));
        feature("store", "{\"id\": \"io.backplane:backplane-xenstore:1\"}", "");
        assertThat(Readiness.embeddedXenStore(load())).isTrue();
        // xen mode (features/xen/backplane-xen.json): the host's xenstored, no socket in the state dir
        feature("xen", "", ", \"configurations\": {\"io.backplane.xenstore\": {\"mode\": \"socket\"}}");
        assertThat(Readiness.embeddedXenStore(load())).isFalse();
        Files.delete(features.resolve("store.json"));
        Files.delete(features.resolve("xen.json"));
        feature("none", "", "");
        assertThat(Readiness.embeddedXenStore(load())).isFalse();
    }

    @Test
    void aBundleWithoutAJarIsNamedWithTheFix() throws IOException {
        feature("one", "{\"id\": \"io.backplane:backplane-nothing:0.1\"}", "");
        assertThatThrownBy(this::load).hasMessageContaining("no jar for bundle io.backplane:backplane-nothing:0.1")
                .hasMessageContaining("runtime/pom.xml");
    }

    @Test
    void aBrokenDescriptorIsNamed() throws IOException {
        Files.writeString(features.resolve("bad.json"), "{ \"bundles\": [ ");
        assertThatThrownBy(this::load).hasMessageStartingWith("feature descriptor " + features.resolve("bad.json") + " is not valid");
    }

    @Test
    void aBadStartOrderIsRefused() throws IOException {
        Files.createFile(bundles.resolve("a-1.jar"));
        feature("one", "{\"id\": \"g:a:1\", \"start-order\": \"soon\"}", "");
        assertThatThrownBy(this::load).hasMessageContaining("start-order 'soon'");
    }

    @Test
    void theLocalMavenRepositoryIsTheFallback() throws IOException {
        Path jar = maven.resolve("org/example/lib/2.0/lib-2.0.jar");
        Files.createDirectories(jar.getParent());
        Files.createFile(jar);
        feature("one", "{\"id\": \"org.example:lib:2.0\"}", "");
        assertThat(load().bundles()).extracting(FeatureSet.Bundle::jar).containsExactly(jar);
    }
}
