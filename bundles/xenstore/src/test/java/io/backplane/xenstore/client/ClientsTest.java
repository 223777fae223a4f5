package io.backplane.xenstore.client;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.api.xenstore.XsWatch;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.wire.XenStoreDaemon;
import io.backplane.xs.client.SocketXenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The same API scenario against the in-process client and the xs_wire socket client. */
class ClientsTest {
    private Path stateDir;
    private Store store;
    private XenStoreDaemon daemon;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        stateDir = Files.createTempDirectory("xs-clients");
        store = new Store(Quotas.XEN_4_17);
        daemon = new XenStoreDaemon(store, stateDir, OperatorLog.stderrWarnings("xenstored"));
        daemon.start();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        daemon.close();
        Files.deleteIfExists(stateDir.resolve("xenstored"));
        Files.deleteIfExists(stateDir.resolve("domains"));
        Files.deleteIfExists(stateDir);
    }

    private XenStore client(String kind) throws Exception {
        XenStore xs = kind.equals("embedded") ? new EmbeddedXenStore(store) : new SocketXenStore(daemon.dom0Socket());
        open.add((AutoCloseable) xs);
        return xs;
    }

    @ParameterizedTest
    @ValueSource(strings = {"embedded", "socket"})
    void nodesPermsAndLargeDirectories(String kind) throws Exception {
        XenStore xs = client(kind);
        xs.write("/c/k", "v");
        assertThat(xs.read("/c/k")).isEqualTo("v");
        assertThat(xs.tryRead("/c/none")).isEmpty();
        assertThat(xs.exists("/c")).isTrue();
        xs.mkdir("/c/dir");
        assertThat(xs.directory("/c")).containsExactly("k", "dir");
        xs.setPerms("/c/k", List.of(XsPerm.none(0), XsPerm.read(3)));
        assertThat(xs.getPerms("/c/k")).containsExactly(XsPerm.none(0), XsPerm.read(3));
        for (int i = 0; i < 400; i++) {
            xs.write(String.format("/c/many/child-with-a-longish-name-%03d", i), "");
        }
        List<String> names = xs.directory("/c/many"); // > 4096 bytes: DIRECTORY_PART on the socket
        assertThat(names).hasSize(400);
        assertThat(names.get(399)).isEqualTo("child-with-a-longish-name-399");
        xs.rm("/c");
        assertThat(xs.exists("/c")).isFalse();
        XsException e = assertThrows(XsException.class, () -> xs.read("/c/k"));
        assertThat(e.error()).isEqualTo(XsError.ENOENT);
        assertThat(xs.getDomainPath(4)).isEqualTo("/local/domain/4");
    }

    @ParameterizedTest
    @ValueSource(strings = {"embedded", "socket"})
    void transactionHelperRetriesOnEagain(String kind) throws Exception {
        XenStore xs = client(kind);
        XenStore other = client(kind);
        xs.write("/t/counter", "0");
        AtomicInteger attempts = new AtomicInteger();
        String result = xs.transaction(tx -> {
            int n = Integer.parseInt(tx.read("/t/counter"));
            if (attempts.getAndIncrement() == 0) {
                other.write("/t/counter", "10"); // conflicts with this first attempt
            }
            tx.write("/t/counter", Integer.toString(n + 1));
            return "done";
        });
        assertThat(result).isEqualTo("done");
        assertThat(attempts.get()).isEqualTo(2);
        assertThat(xs.read("/t/counter")).isEqualTo("11");
    }

    @ParameterizedTest
    @ValueSource(strings = {"embedded", "socket"})
    void watchEventsArriveOnTheEventThread(String kind) throws Exception {
        XenStore xs = client(kind);
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        XsWatch w = xs.watch("/w", "tok", (path, token) -> events.add(path + " " + token + " " + Thread.currentThread().getName()));
        assertThat(events.poll(5, TimeUnit.SECONDS)).startsWith("/w tok xenstore-events-");
        XsException dup = assertThrows(XsException.class, () -> xs.watch("/w", "tok", (p, t) -> { }));
        assertThat(dup.error()).isEqualTo(XsError.EEXIST);
        client(kind).write("/w/x", "1");
        assertThat(events.poll(5, TimeUnit.SECONDS)).startsWith("/w/x tok ");
        w.close();
        xs.write("/w/y", "1");
        xs.read("/w/y"); // a round trip after the write: a stray event would have arrived
        assertThat(events.poll(200, TimeUnit.MILLISECONDS)).isNull();

        BlockingQueue<String> domains = new LinkedBlockingQueue<>();
        xs.watch("@introduceDomain", "intro", (p, t) -> domains.add(p));
        assertThat(domains.poll(5, TimeUnit.SECONDS)).isEqualTo("@introduceDomain");
        xs.introduceDomain(12, 1, 1);
        assertThat(domains.poll(5, TimeUnit.SECONDS)).isEqualTo("@introduceDomain");
        assertThat(xs.isDomainIntroduced(12)).isTrue();
        xs.releaseDomain(12);
        assertThat(xs.isDomainIntroduced(12)).isFalse();
    }
}
