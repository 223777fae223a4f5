package io.backplane.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** Every default path follows the launcher jar's install root, never the working directory. */
class LaunchOptionsTest {

    @Test
    void aReleaseResolvesEverythingUnderItsRoot() {
        LaunchOptions o = LaunchOptions.parse(new String[] {"--state-dir", "/run/bp"},
                Path.of("/opt/backplane/lib/backplane-runtime.jar"));
        assertThat(o.home()).isEqualTo(Path.of("/opt/backplane"));
        assertThat(o.featuresDir()).isEqualTo(Path.of("/opt/backplane/features"));
        assertThat(o.bundlesDir()).isEqualTo(Path.of("/opt/backplane/bundles"));
        assertThat(o.deployDir()).isEqualTo(Path.of("/opt/backplane/deploy"));
        assertThat(o.etcDir()).isEqualTo(Path.of("/opt/backplane/etc"));
        assertThat(o.guestJar()).isEqualTo(Path.of("/opt/backplane/guest/backplane-guest.jar"));
        assertThat(o.stateDir()).isEqualTo(Path.of("/run/bp"));
    }

    @Test
    void aCheckoutResolvesUnderItsRootAndRuntimeTarget() {
        LaunchOptions o = LaunchOptions.parse(new String[] {"--etc", "/etc/backplane"},
                Path.of("/src/bp/runtime/target/backplane-runtime.jar"));
        assertThat(o.home()).isEqualTo(Path.of("/src/bp"));
        assertThat(o.featuresDir()).isEqualTo(Path.of("/src/bp/features"));
        assertThat(o.bundlesDir()).isEqualTo(Path.of("/src/bp/runtime/target/bundles"));
        assertThat(o.deployDir()).isEqualTo(Path.of("/src/bp/runtime/deploy"));
        assertThat(o.etcDir()).isEqualTo(Path.of("/etc/backplane"));
        assertThat(o.guestJar()).isEqualTo(Path.of("/src/bp/runtime/target/guest/backplane-guest.jar"));
    }

    @Test
    void helpIsNotAnErrorAndUnknownOptionsAreNamed() {
        Path jar = Path.of("/opt/backplane/lib/backplane-runtime.jar");
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--help"}, jar)).isInstanceOf(LaunchOptions.HelpRequested.class)
                .hasMessageStartingWith("usage: backplane run");
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--bogus"}, jar)).hasMessage("unknown option --bogus");
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--deploy"}, jar)).hasMessage("--deploy needs a value");
    }

    @Test
    void aStandbyPairsTheStateDirectoryWithItsStandbySibling() throws Exception {
        Path jar = Path.of("/opt/backplane/lib/backplane-runtime.jar");
        LaunchOptions o = LaunchOptions.parse(new String[] {"--standby", "--state-dir", "/run/bp"}, jar);
        assertThat(o.standby()).isTrue();
        assertThat(LaunchOptions.parse(new String[] {"--state-dir", "/run/bp"}, jar).standby()).isFalse();
        assertThat(LaunchOptions.standbyPartner(Path.of("/run/bp"))).isEqualTo(Path.of("/run/bp-standby"));
        assertThat(LaunchOptions.standbyPartner(Path.of("/run/bp-standby"))).isEqualTo(Path.of("/run/bp"));
        // nothing runs on either: the standby is the serving one, on the directory asked for
        Path dir = java.nio.file.Files.createTempDirectory("bp-standby-test").resolve("bp");
        assertThat(Launcher.standbyStateDir(dir, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))).isEqualTo(dir);
    }
}
