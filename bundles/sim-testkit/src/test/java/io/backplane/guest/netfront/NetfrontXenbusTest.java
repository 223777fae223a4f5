package io.backplane.guest.netfront;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.guest.sim.SimGuest;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.wire.XenStoreDaemon;
import io.backplane.xs.client.SocketXenStore;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The netfront's xenbus side against the real XenStore, with the test writing the backend's
 * keys the way Linux netback does: which keys the frontend writes for what the backend offers
 * (Linux talk_to_netback), and its reconnection when the backend goes through Closing.
 */
class NetfrontXenbusTest {
    @TempDir
    Path dir;
    Store store;
    XenStoreDaemon daemon;
    EmbeddedXenStore dom0;
    SimHypervisor sim;
    SimGuest guest;
    SocketXenStore guestXs;
    int domid;
    String fe;
    String be;

    @BeforeEach
    void start() throws Exception {
        store = new Store(Quotas.XEN_4_17);
        daemon = new XenStoreDaemon(store, dir, OperatorLog.stderrWarnings("xenstored"));
        daemon.start();
        dom0 = new EmbeddedXenStore(store);
        sim = SimHypervisor.start(dir, new NativeIo(), dom0, -1);
        domid = sim.create(DomainConfig.ofMiB("nf", 8)).domid();
        guest = SimGuest.attach(dir, domid, new NativeIo());
        guestXs = guest.connectXenStore();
        fe = "/local/domain/" + domid + "/device/vif/0";
        be = "/local/domain/0/backend/vif/" + domid + "/0";
    }

    @AfterEach
    void stop() {
        guestXs.close();
        guest.close();
        sim.close();
        dom0.close();
        daemon.close();
    }

    /** libxl's vif layout, then the backend at InitWait offering {@code maxQueues} (0: no key). */
    private Netfront attach(String options, int maxQueues) {
        return attach(options, maxQueues, true);
    }

    private Netfront attach(String options, int maxQueues, boolean rxCopy) {
        dom0.transaction(tx -> {
            tx.mkdir(be);
            tx.setPerms(be, List.of(XsPerm.none(0), XsPerm.read(domid)));
            tx.mkdir(fe);
            tx.setPerms(fe, List.of(XsPerm.none(domid), XsPerm.read(0)));
            tx.write(fe + "/backend", be);
            tx.write(fe + "/backend-id", "0");
            tx.write(fe + "/state", "1");
            tx.write(fe + "/mac", "00:16:3e:00:00:01");
            tx.write(be + "/frontend", fe);
            tx.write(be + "/online", "1");
            tx.write(be + "/feature-split-event-channels", "1");
            if (rxCopy) {
                tx.write(be + "/feature-rx-copy", "1");
            }
            if (maxQueues > 0) {
                tx.write(be + "/multi-queue-max-queues", Integer.toString(maxQueues));
            }
            tx.write(be + "/state", "2");
            return null;
        });
        Netfront nf = new Netfront(guest, guestXs, 0, NetfrontOptions.parse(options));
        nf.start();
        return nf;
    }

    @Test
    void queuesAreMinOfOwnAndOfferedAndOneQueueWritesFlatKeysAndItsCount() throws Exception {
        Netfront nf = attach("queues=1", 4);
        try {
            waitFor(() -> "4".equals(dom0.tryRead(fe + "/state").orElse("")));
            assertThat(dom0.read(fe + "/multi-queue-num-queues")).as("Linux writes the count when the backend offers queues")
                    .isEqualTo("1");
            assertThat(dom0.read(fe + "/tx-ring-ref")).matches("[0-9]+");
            assertThat(dom0.read(fe + "/rx-ring-ref")).matches("[0-9]+");
            assertThat(dom0.read(fe + "/event-channel-tx")).matches("[0-9]+");
            assertThat(dom0.read(fe + "/event-channel-rx")).matches("[0-9]+");
            assertThat(dom0.exists(fe + "/queue-0")).isFalse();
            assertThat(dom0.read(fe + "/request-rx-copy")).isEqualTo("1");
            assertThat(dom0.read(fe + "/feature-rx-notify")).isEqualTo("1");
        } finally {
            nf.close();
        }
    }

    @Test
    void twoQueuesOfFourOfferedAndAReconnectThroughClosing() throws Exception {
        Netfront nf = attach("queues=2,split=0", 4);
        try {
            waitFor(() -> "4".equals(dom0.tryRead(fe + "/state").orElse("")));
            assertThat(dom0.read(fe + "/multi-queue-num-queues")).isEqualTo("2");
            assertThat(dom0.directory(fe)).contains("queue-0", "queue-1").doesNotContain("tx-ring-ref");
            assertThat(dom0.read(fe + "/queue-1/event-channel")).matches("[0-9]+");
            assertThat(dom0.exists(fe + "/queue-1/event-channel-tx")).as("split=0: one channel per queue").isFalse();
            String firstRef = dom0.read(fe + "/queue-0/tx-ring-ref");

            dom0.write(be + "/state", "5");                          // backend Closing
            waitFor(() -> "6".equals(dom0.tryRead(fe + "/state").orElse("")));
            dom0.write(be + "/state", "6");                          // backend Closed, device still online
            waitFor(() -> "1".equals(dom0.tryRead(fe + "/state").orElse("")));
            dom0.transaction(tx -> {                                // InitWait again, offering one queue now
                tx.write(be + "/multi-queue-max-queues", "1");
                tx.write(be + "/state", "2");
                return null;
            });
            waitFor(() -> "4".equals(dom0.tryRead(fe + "/state").orElse("")));
            assertThat(dom0.read(fe + "/multi-queue-num-queues")).as("the earlier count is overwritten").isEqualTo("1");
            assertThat(dom0.read(fe + "/tx-ring-ref")).as("the old ring's grant was ended and reused").isEqualTo(firstRef);
        } finally {
            nf.close();
        }
    }

    @Test
    void aBackendWithoutMultiQueueGetsOneQueue() throws Exception {
        Netfront nf = attach("queues=4", 0);
        try {
            waitFor(() -> "4".equals(dom0.tryRead(fe + "/state").orElse("")));
            assertThat(dom0.exists(fe + "/multi-queue-num-queues")).as("no count for a backend without multi-queue").isFalse();
            assertThat(dom0.read(fe + "/tx-ring-ref")).matches("[0-9]+");
        } finally {
            nf.close();
        }
    }

    @Test
    void aBackendWithoutRxCopyIsNotConnectedToUntilItOffersIt() throws Exception {
        Netfront nf = attach("queues=1", 1, false);
        try {
            Thread.sleep(500);
            assertThat(dom0.read(fe + "/state")).as("Linux's xennet_connect refuses: stays Initialising").isEqualTo("1");
            assertThat(dom0.exists(fe + "/tx-ring-ref")).isFalse();
            dom0.transaction(tx -> {
                tx.write(be + "/feature-rx-copy", "1");
                tx.write(be + "/state", "2");
                return null;
            });
            waitFor(() -> "4".equals(dom0.tryRead(fe + "/state").orElse("")));
        } finally {
            nf.close();
        }
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 10 s").isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
