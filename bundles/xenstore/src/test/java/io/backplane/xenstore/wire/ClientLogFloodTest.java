package io.backplane.xenstore.wire;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.log.SourceRateLimit;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xs.wire.XsWire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** A guest breaking the protocol over and over writes a handful of log lines, then a count. */
class ClientLogFloodTest {
    private final AtomicLong clock = new AtomicLong();
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private Path stateDir;
    private XenStoreDaemon daemon;
    private EmbeddedXenStore dom0;

    @BeforeEach
    void start() throws Exception {
        stateDir = Files.createTempDirectory("xs-flood");
        Store store = new Store(Quotas.XEN_4_17);
        daemon = new XenStoreDaemon(store, stateDir, OperatorLog.of(line -> { }, warnings::add, (line, cause) -> warnings.add(line)),
                new SourceRateLimit(SourceRateLimit.DEFAULT_BURST, Duration.ofSeconds(10), clock::get));
        daemon.start();
        dom0 = new EmbeddedXenStore(store);
        dom0.introduceDomain(3, 1, 1);
    }

    @AfterEach
    void stop() throws Exception {
        dom0.close();
        daemon.close();
        try (var s = Files.walk(stateDir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Connects, announces a frame larger than xs_wire allows and waits until the daemon hangs up. */
    private void oversizedFrame(Path socket) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer h = XsWire.newHeader();
            h.putInt(XsWire.WRITE).putInt(1).putInt(0).putInt(XsWire.PAYLOAD_MAX + 1).flip();
            ch.write(h);
            assertThat(ch.read(ByteBuffer.allocate(16))).isEqualTo(-1);
        }
    }

    private void awaitNoConnections() throws InterruptedException {
        for (int i = 0; i < 500 && daemon.openConnections() > 0; i++) {
            Thread.sleep(10);
        }
        assertThat(daemon.openConnections()).isZero();
    }

    @Test
    void linesAboutOneGuestAreRateLimitedAndTheNextCountsWhatWasHeldBack() throws Exception {
        Path guest = XenStoreDaemon.domainSocket(stateDir, 3);
        for (int i = 0; i < 200; i++) {
            oversizedFrame(guest);
        }
        awaitNoConnections();
        assertThat(warnings).hasSize(SourceRateLimit.DEFAULT_BURST)
                .allMatch(w -> w.contains("(domain 3)") && w.contains("exceeds 4096, closing it"));

        oversizedFrame(daemon.dom0Socket()); // another source: not held back by domain 3's flood
        awaitNoConnections();
        assertThat(warnings).hasSize(SourceRateLimit.DEFAULT_BURST + 1);

        clock.addAndGet(Duration.ofSeconds(10).toNanos());
        oversizedFrame(guest);
        awaitNoConnections();
        assertThat(warnings).hasSize(SourceRateLimit.DEFAULT_BURST + 2);
        assertThat(warnings.get(warnings.size() - 1))
                .endsWith("closing it (and 195 more like it from domain 3 in the last 10 s)");
    }
}
