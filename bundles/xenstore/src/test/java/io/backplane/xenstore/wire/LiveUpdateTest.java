package io.backplane.xenstore.wire;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.api.xenstore.XsTransaction;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xs.client.SocketXenStore;
import io.backplane.xs.wire.XsWire;
import org.junit.jupiter.api.Test;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A daemon hands its store and open sockets to a successor (what a XenStore bundle update does):
 * the clients' connections go on as they were, with their watches, a request sent half before
 * and half after, and a transaction open across it, which fails with EAGAIN at commit.
 */
class LiveUpdateTest {

    @Test
    void connectionsWatchesAndTheTreeSurviveAHandOver() throws Exception {
        try (DaemonFixture xs = new DaemonFixture();
             SocketXenStore dom0 = new SocketXenStore(xs.socket())) {
            dom0.write("/lu/a", "1");
            dom0.setPerms("/lu/a", List.of(XsPerm.parse("n0"), XsPerm.parse("r5")));
            dom0.introduceDomain(5, 0, 0);
            dom0.mkdir("/local/domain/5");
            dom0.setPerms("/local/domain/5", List.of(XsPerm.parse("n5")));
            dom0.write("/local/domain/5/name", "guest"); // owned by domain 5, as its parent
            LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
            dom0.watch("/lu", "tok", (path, token) -> events.add(path));
            assertThat(events.poll(10, TimeUnit.SECONDS)).isEqualTo("/lu"); // the initial event
            XsTransaction tx = dom0.begin();
            tx.write("/lu/in-tx", "x");
            DaemonFixture.requireTool("/usr/bin/xenstore-ls", "xenstore-utils");
            String tree = xs.run("/usr/bin/xenstore-ls", "-p", "/").out();
            try (SocketXenStore guest = new SocketXenStore(XenStoreDaemon.domainSocket(xs.stateDir, 5));
                 SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                assertThat(guest.read("name")).isEqualTo("guest");
                raw.connect(UnixDomainSocketAddress.of(xs.socket()));
                ByteBuffer request = XsWire.frame(XsWire.WRITE, 9, 0, "/lu/raw\0v".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                request.limit(XsWire.HEADER_LENGTH + 3);
                raw.write(request); // a request cut short by the update
                Thread.sleep(100);

                Map<String, Object> handOver = xs.daemon.handOver();
                Store next = XenStoreDaemon.restoreStore(handOver, Quotas.XEN_4_17);
                try (XenStoreDaemon successor = new XenStoreDaemon(next, xs.stateDir, OperatorLog.stderrWarnings("xenstored"))) {
                    assertThat(successor.restore(handOver)).isEqualTo(3);
                    assertThat(activity(next)).as("xs:stat's counters carry on").isEqualTo(activity(xs.store))
                            .containsKey(5);
                    assertThat(activity(next).get(5)).as("the guest's read").startsWith(1L);

                    request.limit(request.capacity());
                    raw.write(request);
                    ByteBuffer reply = XsWire.newHeader();
                    while (reply.hasRemaining()) {
                        raw.read(reply);
                    }
                    assertThat(reply.getInt(XsWire.TYPE_OFFSET)).isEqualTo(XsWire.WRITE);
                    assertThat(reply.getInt(XsWire.REQ_ID_OFFSET)).isEqualTo(9);
                    assertThat(dom0.read("/lu/raw")).isEqualTo("v");
                    assertThat(guest.read("name")).isEqualTo("guest");
                    assertThat(guest.read("/lu/a")).isEqualTo("1"); // its permissions came along: r5
                    dom0.write("/lu/after", "2");
                    assertThat(awaitEvent(events, "/lu/after")).isTrue();
                    assertThatThrownBy(tx::commit).isInstanceOfSatisfying(XsException.class,
                            e -> assertThat(e.error()).isEqualTo(XsError.EAGAIN));
                    assertThat(dom0.exists("/lu/in-tx")).isFalse();
                    dom0.rm("/lu/raw");
                    dom0.rm("/lu/after");
                    assertThat(xs.run("/usr/bin/xenstore-ls", "-p", "/").out()).isEqualTo(tree);
                    try (SocketXenStore newcomer = new SocketXenStore(xs.socket())) {
                        assertThat(newcomer.read("/lu/a")).isEqualTo("1");
                    }
                }
            }
        }
    }

    /** Each domain's {requests, quota hits, watch events}, as xs:stat shows them. */
    private static Map<Integer, List<Long>> activity(Store s) {
        Map<Integer, List<Long>> out = new java.util.TreeMap<>();
        s.stats().domains().forEach(d -> out.put(d.domid(), List.of(d.requests(), d.quotaHits(), d.watchEvents())));
        return out;
    }

    /** A client that stops reading holds up no hand-over, and loses nothing queued for it. */
    @Test
    void aClientThatDoesNotReadNeitherHoldsUpNorLosesItsEvents() throws Exception {
        try (DaemonFixture xs = new DaemonFixture();
             SocketXenStore dom0 = new SocketXenStore(xs.socket());
             SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            dom0.write("/flood", "");
            raw.connect(UnixDomainSocketAddress.of(xs.socket()));
            raw.write(XsWire.frame(XsWire.WATCH, 1, 0, "/flood\0tok\0".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            List<String> initial = new java.util.ArrayList<>();
            readEvents(raw, 1, initial); // the watch is registered: from here on every write has its event
            assertThat(initial).containsExactly("/flood");
            // Events of about 2 KiB each, never read: the socket fills and the rest waits in the daemon.
            String name = "/flood/" + "x".repeat(2000) + "-";
            int writes = 300;
            for (int i = 0; i < writes; i++) {
                dom0.write(name + i, "");
            }
            Map<String, Object> handOver = xs.daemon.handOver(); // would wait forever for the client before
            try (XenStoreDaemon successor = new XenStoreDaemon(XenStoreDaemon.restoreStore(handOver, Quotas.XEN_4_17),
                    xs.stateDir, OperatorLog.stderrWarnings("xenstored"))) {
                successor.restore(handOver);
                List<String> events = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
                Thread reader = new Thread(() -> readEvents(raw, writes, events));
                reader.start();
                reader.join(20_000);
                assertThat(events).as("events read in 20 s").hasSize(writes);
                for (int i = 0; i < writes; i++) {
                    assertThat(events.get(i)).isEqualTo(name + i);
                }
            }
        }
    }

    /** Adds the paths of the next {@code n} watch events on {@code ch} to {@code paths} (other frames skipped). */
    private static void readEvents(SocketChannel ch, int n, List<String> paths) {
        try {
            while (paths.size() < n) {
                ByteBuffer h = XsWire.newHeader();
                while (h.hasRemaining()) {
                    if (ch.read(h) < 0) {
                        throw new java.io.EOFException("closed after " + paths.size() + " events");
                    }
                }
                ByteBuffer p = ByteBuffer.allocate(h.getInt(XsWire.LEN_OFFSET));
                while (p.hasRemaining()) {
                    ch.read(p);
                }
                if (h.getInt(XsWire.TYPE_OFFSET) == XsWire.WATCH_EVENT) {
                    String payload = new String(p.array(), java.nio.charset.StandardCharsets.UTF_8);
                    paths.add(payload.substring(0, payload.indexOf('\0')));
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static boolean awaitEvent(LinkedBlockingQueue<String> events, String path) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String e;
        while ((e = events.poll(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())), TimeUnit.MILLISECONDS)) != null) {
            if (e.equals(path)) {
                return true;
            }
        }
        return false;
    }
}
