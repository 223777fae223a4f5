package io.backplane.runtime;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;

import io.backplane.control.client.ControlClient;
import io.backplane.xenstore.XenStoreComponent;

import org.osgi.service.feature.FeatureConfiguration;

/**
 * When a started instance is ready for a script or systemd: its control socket answers and
 * {@code bp:ready} says every start level is reached and every component runs (so every command
 * is registered), and, with the embedded XenStore, its daemon socket accepts connections.
 */
final class Readiness {

    /** The embedded daemon's socket in the state directory (the xenstore bundle's XenStoreDaemon layout). */
    static final String XENSTORED_SOCKET = "xenstored/socket";

    /** The xenstore bundle's configuration key that picks where the store comes from (XenStoreConfig.mode). */
    static final String XENSTORE_MODE = "mode";
    /** Its default: the embedded store, whose daemon socket is in the state directory. */
    static final String XENSTORE_EMBEDDED = "embedded";

    private Readiness() {
    }

    /**
     * True when {@code features} run the embedded XenStore: its bundle, configured (if at all) in
     * the embedded mode. In xen mode the bundle uses the host's xenstored ("socket"), and a start
     * waiting for a daemon socket of its own would wait out its whole timeout.
     */
    static boolean embeddedXenStore(FeatureSet features) {
        boolean bundle = features.bundles().stream()
                .anyMatch(b -> b.jar().getFileName().toString().startsWith("backplane-xenstore-"));
        FeatureConfiguration configured = features.configurations().get(XenStoreComponent.PID);
        Object mode = configured == null ? null : configured.getValues().get(XENSTORE_MODE);
        return bundle && (mode == null || XENSTORE_EMBEDDED.equals(mode));
    }

    /** Waits; null when ready, else what it still waited for when {@code timeout} passed. */
    static String await(Path stateDir, boolean embeddedXenStore, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (ControlClient ready = ControlClient.awaitReady(ControlClient.socketIn(stateDir), timeout)) {
            // connected and ready
        } catch (IOException e) {
            return e.getMessage();
        }
        if (!embeddedXenStore) {
            return null;
        }
        Path xenstored = stateDir.resolve(XENSTORED_SOCKET);
        while (true) {
            try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                channel.connect(UnixDomainSocketAddress.of(xenstored));
                return null;
            } catch (IOException e) {
                if (System.nanoTime() - deadline >= 0) {
                    return "the XenStore socket " + xenstored + " accepts no connection: " + e.getMessage();
                }
                Thread.sleep(50);
            }
        }
    }
}
