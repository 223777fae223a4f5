package io.backplane.guest.netfront;

import static io.backplane.ring.layout.NetifConstants.NETRXF_CSUM_BLANK;
import static io.backplane.ring.layout.NetifConstants.NETRXF_DATA_VALIDATED;
import static io.backplane.ring.layout.NetifConstants.NETRXF_EXTRA_INFO;
import static io.backplane.ring.layout.NetifConstants.NETRXF_MORE_DATA;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_EXTRA_TYPE_GSO;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_TCPV4;
import static io.backplane.ring.layout.NetifConstants.XEN_NETIF_GSO_TYPE_TCPV6;
import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.guest.sim.SimGuest;
import io.backplane.hypervisor.sim.SimHypervisor;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.BackRing;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.NetifExtraInfo;
import io.backplane.ring.NetifRxRequest;
import io.backplane.ring.NetifRxResponse;
import io.backplane.ring.layout.SharedRingDescriptor;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.wire.XenStoreDaemon;
import io.backplane.xs.client.SocketXenStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The netfront's receive side against a hand-written backend that fills its RX ring as Linux
 * netback's rx.c does (first response with NETRXF_csum_blank / data_validated / extra_info, the
 * netif_extra_info slot right after it, then the data slots with more_data): checksums completed
 * and verified, GSO extras consumed, and offloads the frontend did not advertise counted.
 */
class NetfrontRxOffloadTest {
    static final int PAGE = DomainConfig.PAGE_SIZE;
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
    Netfront nf;
    BackRing rx;
    EventChannel port;
    final NetifRxRequest req = new NetifRxRequest();
    final NetifRxResponse rsp = new NetifRxResponse();
    final NetifExtraInfo extra = new NetifExtraInfo();
    GrantMapping ringMapping;
    L4Traffic host;
    final byte[] b = new byte[65536];

    @BeforeEach
    void start() throws Exception {
        store = new Store(Quotas.XEN_4_17);
        daemon = new XenStoreDaemon(store, dir, OperatorLog.stderrWarnings("xenstored"));
        daemon.start();
        dom0 = new EmbeddedXenStore(store);
        sim = SimHypervisor.start(dir, new NativeIo(), dom0, -1);
        domid = sim.create(DomainConfig.ofMiB("nf", 16)).domid();
        guest = SimGuest.attach(dir, domid, new NativeIo());
        guestXs = guest.connectXenStore();
        fe = "/local/domain/" + domid + "/device/vif/0";
        be = "/local/domain/0/backend/vif/" + domid + "/0";
        byte[] peer6 = new byte[16];
        peer6[0] = (byte) 0xfd;
        peer6[15] = 1;
        byte[] guest6 = peer6.clone();
        guest6[15] = 2;
        host = new L4Traffic(new byte[] {0, 0x16, 0x3e, 9, 9, 9}, new byte[] {0, 0x16, 0x3e, 0, 0, 1},
                new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 2}, peer6, guest6, 3);
    }

    @AfterEach
    void stop() {
        if (port != null) {
            port.close();
        }
        if (ringMapping != null) {
            ringMapping.close();                        // the backend unmaps first, so the guest ends its grants
        }
        if (nf != null) {
            nf.close();
        }
        guestXs.close();
        guest.close();
        sim.close();
        dom0.close();
        daemon.close();
    }

    /** The backend at InitWait (offering sg, GSO and IPv6 checksum offload), then Connected with the RX ring mapped. */
    private void connect(String options) throws Exception {
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
            tx.write(be + "/feature-rx-copy", "1");
            tx.write(be + "/feature-sg", "1");
            tx.write(be + "/feature-gso-tcpv4", "1");
            tx.write(be + "/feature-gso-tcpv6", "1");
            tx.write(be + "/feature-ipv6-csum-offload", "1");
            tx.write(be + "/state", "2");
            return null;
        });
        nf = new Netfront(guest, guestXs, 0, NetfrontOptions.parse("queues=1,split=0," + options));
        nf.start();
        waitFor(() -> "4".equals(dom0.tryRead(fe + "/state").orElse("")));
        int ref = Integer.parseInt(dom0.read(fe + "/rx-ring-ref"));
        ringMapping = sim.map(domid, new int[] {ref}, true);
        rx = BackRing.attach(ringMapping.buffer(), LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_RX_ENTRY_LENGTH));
        port = sim.bindInterdomain(domid, Integer.parseInt(dom0.read(fe + "/event-channel")), ch -> ch.unmask());
        dom0.write(be + "/state", "4");
    }

    /** One frame as netback's rx.c hands it over: first slot, the GSO extra when asked, the rest. */
    private void deliver(byte[] frame, int len, int flags, int gsoType, int gsoSize, int extraType) throws Exception {
        int slots = (len + PAGE - 1) / PAGE;
        boolean withExtra = extraType != 0;
        waitFor(() -> rx.unconsumedRequests() >= slots + (withExtra ? 1 : 0));
        for (int s = 0; s < slots; s++) {
            rx.copyRequest(req);
            int n = Math.min(PAGE, len - s * PAGE);
            try (GrantMapping m = sim.map(domid, new int[] {req.gref}, true)) {
                m.buffer().put(0, frame, s * PAGE, n);
            }
            rsp.id = req.id;
            rsp.offset = 0;
            rsp.status = n;
            rsp.flags = (s + 1 < slots ? NETRXF_MORE_DATA : 0) | (s == 0 ? flags | (withExtra ? NETRXF_EXTRA_INFO : 0) : 0);
            rx.putResponse(rsp);
            if (s == 0 && withExtra) {
                rx.copyRequest(req);                    // the extra takes a request's slot
                extra.type = extraType;
                extra.flags = 0;
                extra.gso(gsoSize, gsoType);
                rx.putResponse(extra);
            }
        }
        if (rx.pushResponsesAndCheckNotify()) {
            port.notifyRemote();
        }
    }

    private void deliver(int len, int flags) throws Exception {
        deliver(b, len, flags, 0, 0, 0);
    }

    private void deliverGso(int len, int flags, int gsoType, int mss) throws Exception {
        deliver(b, len, flags, gsoType, mss, XEN_NETIF_EXTRA_TYPE_GSO);
    }

    private long stat(String name) {
        return nf.totals().getOrDefault(name, -1L);
    }

    private void awaitReceived(long n) throws Exception {
        waitFor(() -> stat("rx-received") + stat("rx-bad") >= n);
        Thread.sleep(50);
    }

    private static final int PARTIAL = NETRXF_CSUM_BLANK | NETRXF_DATA_VALIDATED;

    @Test
    void offloadedFramesAreCompletedVerifiedAndCounted() throws Exception {
        connect("");
        assertThat(dom0.read(fe + "/feature-sg")).isEqualTo("1");
        assertThat(dom0.read(fe + "/feature-gso-tcpv4")).isEqualTo("1");
        assertThat(dom0.read(fe + "/feature-gso-tcpv6")).isEqualTo("1");
        assertThat(dom0.read(fe + "/feature-ipv6-csum-offload")).isEqualTo("1");
        assertThat(dom0.exists(fe + "/feature-no-csum-offload")).isFalse();

        deliver(host.udp(b, 4, 100, false), 0);                              // 1: full checksum, no flags
        deliver(host.tcp(b, 4, 1460, true), PARTIAL);                        // 2: csum_blank
        deliver(host.udp(b, 6, 9000, false), NETRXF_DATA_VALIDATED);         // 3: validated, 3 slots
        deliverGso(host.tcp(b, 6, 30000, true), PARTIAL, XEN_NETIF_GSO_TYPE_TCPV6, 1440);   // 4: GSO, 8 slots + extra
        deliverGso(host.tcp(b, 4, 65000, true), PARTIAL, XEN_NETIF_GSO_TYPE_TCPV4, 1460);   // 5: 64 KiB GSO
        awaitReceived(5);
        assertThat(nf.totals()).containsEntry("rx-received", 5L).containsEntry("rx-verified", 5L).containsEntry("rx-l4", 5L)
                .containsEntry("rx-csum-blank", 3L).containsEntry("rx-data-validated", 4L).containsEntry("rx-gso", 2L)
                .containsEntry("rx-csum-bad", 0L).containsEntry("rx-bad", 0L).containsEntry("rx-unasked-offload", 0L);

        // A GSO frame whose peer forgot csum_blank: recalculated as Linux's checksum_setup does.
        deliverGso(host.tcp(b, 4, 5000, false), 0, XEN_NETIF_GSO_TYPE_TCPV4, 1460);
        // A partial checksum without csum_blank, and a corrupted payload under a full checksum.
        deliver(host.tcp(b, 4, 500, true), 0);
        int len = host.udp(b, 4, 300, false);
        b[200] ^= 1;
        deliver(len, NETRXF_DATA_VALIDATED);
        // GSO extras that netfront drops: size 0, the wrong family, an invalid extra type.
        deliverGso(host.tcp(b, 4, 5000, true), PARTIAL, XEN_NETIF_GSO_TYPE_TCPV4, 0);
        deliverGso(host.tcp(b, 4, 5000, true), PARTIAL, XEN_NETIF_GSO_TYPE_TCPV6, 1460);
        deliver(b, host.tcp(b, 4, 5000, true), PARTIAL, 0, 0, 7);
        awaitReceived(11);
        assertThat(nf.totals()).containsEntry("rx-gso-csum-fixup", 1L).containsEntry("rx-csum-bad", 2L)
                .containsEntry("rx-verified", 6L).containsEntry("rx-bad", 3L);

        // Hundreds more, so the RX ring wraps many times with extras in it: ids and extras stay in step.
        for (int i = 0; i < 300; i++) {
            int fam = i % 2 == 0 ? 4 : 6;
            if (i % 3 == 0) {
                deliverGso(host.tcp(b, fam, 20000 + i, true), PARTIAL, fam == 4 ? XEN_NETIF_GSO_TYPE_TCPV4 : XEN_NETIF_GSO_TYPE_TCPV6, 1400);
            } else {
                deliver(host.udp(b, fam, 60 + i * 7, i % 3 == 1), i % 3 == 1 ? PARTIAL : 0);
            }
        }
        awaitReceived(311);
        assertThat(nf.totals()).containsEntry("rx-verified", 306L).containsEntry("rx-bad", 3L).containsEntry("rx-csum-bad", 2L)
                .containsEntry("rx-unasked-offload", 0L);
    }

    @Test
    void offloadsTheFrontendDidNotAdvertiseAreCountedNotFatal() throws Exception {
        connect("rx-csum=0,rx-gso=0,rx-sg=0");
        assertThat(dom0.read(fe + "/feature-no-csum-offload")).isEqualTo("1");
        assertThat(dom0.directory(fe)).doesNotContain("feature-sg", "feature-gso-tcpv4", "feature-gso-tcpv6",
                "feature-ipv6-csum-offload");

        deliver(host.udp(b, 4, 1000, false), NETRXF_DATA_VALIDATED);         // fine
        deliver(host.tcp(b, 4, 1000, true), PARTIAL);                        // csum_blank unasked
        deliver(host.tcp(b, 6, 1000, true), PARTIAL);                        // IPv6 csum_blank unasked
        deliverGso(host.tcp(b, 4, 3000, true), PARTIAL, XEN_NETIF_GSO_TYPE_TCPV4, 1460);   // GSO and csum_blank unasked
        deliver(host.udp(b, 4, 6000, false), 0);                             // two slots without feature-sg
        awaitReceived(5);
        Map<String, Long> t = nf.totals();
        assertThat(t).containsEntry("rx-received", 5L).containsEntry("rx-verified", 5L).containsEntry("rx-csum-bad", 0L)
                .containsEntry("rx-unasked-offload", 5L);
    }

    private static void waitFor(BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out");
            }
            Thread.sleep(5);
        }
    }
}
