package io.backplane.xenstore;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.annotation.Annotation;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** Which configuration changes restart the XenStore service; the itests check SCR carries it out. */
class XenStoreComponentTest {

    @Test
    void quotaChangesApplyLiveOnlyAModeOrSocketChangeRestarts() {
        Path dom0 = Path.of("/run/backplane/xenstored/socket");
        assertThat(XenStoreComponent.needsRestart("embedded", dom0, config("embedded", "/var/run/xenstored/socket", 50))).isFalse();
        // socket.path means nothing in embedded mode
        assertThat(XenStoreComponent.needsRestart("embedded", dom0, config("embedded", "/elsewhere", 1000))).isFalse();
        assertThat(XenStoreComponent.needsRestart("embedded", dom0, config("socket", "/var/run/xenstored/socket", 1000))).isTrue();

        Path real = Path.of("/var/run/xenstored/socket");
        assertThat(XenStoreComponent.needsRestart("socket", real, config("socket", "/var/run/xenstored/socket", 7))).isFalse();
        assertThat(XenStoreComponent.needsRestart("socket", real, config("socket", "/run/other/socket", 1000))).isTrue();
        assertThat(XenStoreComponent.needsRestart("socket", real, config("embedded", "/var/run/xenstored/socket", 1000))).isTrue();
    }

    private static XenStoreConfig config(String mode, String socket, int nodes) {
        return new XenStoreConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return XenStoreConfig.class;
            }

            @Override
            public String mode() {
                return mode;
            }

            @Override
            public String socket_path() {
                return socket;
            }

            @Override
            public int quota_nodes() {
                return nodes;
            }

            @Override
            public int quota_entry_size() {
                return 2048;
            }

            @Override
            public int quota_watches() {
                return 128;
            }

            @Override
            public int quota_transactions() {
                return 10;
            }

            @Override
            public int quota_perms() {
                return 5;
            }
        };
    }
}
