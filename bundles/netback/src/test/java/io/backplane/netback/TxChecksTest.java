package io.backplane.netback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.ring.RingChannel;
import io.backplane.api.ring.RingRequest;
import io.backplane.guest.sim.SimGuest;
import io.backplane.nativeio.NativeIo;
import io.backplane.netback.sink.MemorySink;
import io.backplane.ring.BackRing;
import io.backplane.ring.FrontRing;
import io.backplane.ring.GeometryRingLayout;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.NetifExtraInfo;
import io.backplane.ring.NetifTxRequest;
import io.backplane.ring.NetifTxResponse;
import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * netback's TX checks one by one: a guest (attached in this JVM through the sim's files and
 * sockets) writes hand-made requests into a real granted ring; the TX path reads them through a
 * real grant mapping and grant copies. Faults carry Linux netback's messages.
 */
class TxChecksTest {
    static SimNet net;
    static int domid;
    static SimGuest guest;
    FrontRing front;
    BackRing back;
    RingChannel channel;
    MemorySink sink;
    TxPath tx;
    long dataFrame;
    int dataRef;
    final AtomicInteger notifications = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        net = new SimNet();
        domid = net.createDomain("tx-checks");
        guest = SimGuest.attach(net.stateDir, domid, new NativeIo());
    }

    @AfterAll
    static void stop() throws Exception {
        guest.close();
        net.close();
    }

    @BeforeEach
    void ring() {
        long ringFrame = guest.memory().allocPage();
        front = FrontRing.init(guest.memory().page(ringFrame), LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH));
        int ringRef = guest.grants().grantAccess(0, ringFrame, false);
        dataFrame = guest.memory().allocPages(4);
        dataRef = guest.grants().grantAccess(0, dataFrame, true);
        for (int i = 1; i < 4; i++) {
            guest.grants().grantAccess(0, dataFrame + i, true);
        }
        channel = RealRings.grantCopy(net.sim).open(new RingRequest(domid, "netif-tx", 12, 4, new int[] {ringRef}, Map.of()));
        back = BackRing.attach(channel.ring(), GeometryRingLayout.of(channel.geometry()));
        sink = new MemorySink("vif-test", false, "");
        tx = new TxPath(back, channel.segments(), sink, new QueueStats(), 20, Credit.unlimited(), notifications::incrementAndGet,
                ByteBuffer.allocateDirect(TxPath.BATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN),
                ByteBuffer.allocateDirect(TxPath.SPILL_BYTES).order(ByteOrder.LITTLE_ENDIAN));
    }

    @AfterEach
    void close() {
        channel.close();
    }

    private void request(int ref, int offset, int flags, int id, int size) {
        NetifTxRequest r = new NetifTxRequest();
        r.gref = ref;
        r.offset = offset;
        r.flags = flags;
        r.id = id;
        r.size = size;
        front.putRequest(r);
    }

    private NetifTxResponse response() {
        assertThat(front.unconsumedResponses()).isPositive();
        return front.copyResponse(new NetifTxResponse());
    }

    @Test
    void multiSlotPacketIsCopiedWholeAndEverySlotAnswered() throws Exception {
        ByteBuffer page0 = guest.memory().page(dataFrame);
        ByteBuffer page1 = guest.memory().page(dataFrame + 1);
        for (int i = 0; i < 4096; i++) {
            page0.put(i, (byte) i);
            page1.put(i, (byte) (i * 7));
        }
        // 100 bytes at offset 10 of page 0, then 3000 bytes of page 1: one 3100-byte frame.
        request(dataRef, 10, NetifConstants.NETTXF_MORE_DATA, 1, 3100);
        request(dataRef + 1, 0, 0, 2, 3000);
        front.pushRequests();
        assertThat(tx.poll()).isTrue();
        byte[] frame = sink.takeTransmitted(1000);
        assertThat(frame).hasSize(3100);
        for (int i = 0; i < 100; i++) {
            assertThat(frame[i]).isEqualTo((byte) (i + 10));
        }
        for (int i = 0; i < 3000; i++) {
            assertThat(frame[100 + i]).isEqualTo((byte) (i * 7));
        }
        NetifTxResponse r1 = response();
        NetifTxResponse r2 = response();
        assertThat(new int[] {r1.id, r1.status, r2.id, r2.status}).containsExactly(1, 0, 2, 0);
        assertThat(notifications.get()).as("the frontend asked for an event at its first response").isEqualTo(1);
    }

    @Test
    void gsoExtraIsAnsweredWithNullAndBadExtrasDisable() {
        request(dataRef, 0, NetifConstants.NETTXF_EXTRA_INFO, 5, 100);
        NetifExtraInfo gso = new NetifExtraInfo().gso(1448, NetifConstants.XEN_NETIF_GSO_TYPE_TCPV4);
        gso.type = NetifConstants.XEN_NETIF_EXTRA_TYPE_GSO;
        front.putRequest(gso);
        front.pushRequests();
        assertThat(tx.poll()).isTrue();
        assertThat(response().status).isEqualTo(NetifConstants.NETIF_RSP_OKAY);
        assertThat(response().status).isEqualTo(NetifConstants.NETIF_RSP_NULL);

        request(dataRef, 0, NetifConstants.NETTXF_EXTRA_INFO, 6, 100);
        NetifExtraInfo bad = new NetifExtraInfo();
        bad.type = 9;
        front.putRequest(bad);
        front.pushRequests();
        assertThatThrownBy(tx::poll).isInstanceOf(FrontendFault.class).hasMessage("Invalid extra type: 9");
    }

    @Test
    void gsoSizeZeroDisables() {
        request(dataRef, 0, NetifConstants.NETTXF_EXTRA_INFO, 5, 100);
        NetifExtraInfo gso = new NetifExtraInfo().gso(0, NetifConstants.XEN_NETIF_GSO_TYPE_TCPV4);
        gso.type = NetifConstants.XEN_NETIF_EXTRA_TYPE_GSO;
        front.putRequest(gso);
        front.pushRequests();
        assertThatThrownBy(tx::poll).isInstanceOf(FrontendFault.class).hasMessage("GSO size must not be zero.");
    }

    @Test
    void missingExtraAndMissingSlotsDisable() {
        request(dataRef, 0, NetifConstants.NETTXF_EXTRA_INFO, 5, 100);
        front.pushRequests();
        assertThatThrownBy(tx::poll).isInstanceOf(FrontendFault.class).hasMessage("Missing extra info");
    }

    @Test
    void moreDataWithoutTheNextSlotDisables() {
        request(dataRef, 0, NetifConstants.NETTXF_MORE_DATA, 5, 200);
        front.pushRequests();
        assertThatThrownBy(tx::poll).isInstanceOf(FrontendFault.class).hasMessage("Asked for 0 slots but exceeds this limit");
    }

    @Test
    void impossibleRequestCountDisables() {
        // A frontend publishing req_prod more than a ring ahead of what was answered.
        channel.ring().putInt(SharedRingDescriptor.REQ_PROD_OFFSET, 300);
        assertThatThrownBy(tx::poll).isInstanceOf(FrontendFault.class).hasMessageContaining("Impossible number of requests");
    }

    @Test
    void shortPacketAndRefusedGrantAreAnsweredWithErrorsOnly() {
        request(dataRef, 0, 0, 1, 10);                 // shorter than an Ethernet header
        request(9999, 0, 0, 2, 100);                   // a reference the guest never granted
        request(dataRef, 0, 0, 3, 60);
        front.pushRequests();
        assertThat(tx.poll()).isTrue();
        assertThat(response().status).isEqualTo(NetifConstants.NETIF_RSP_ERROR);
        assertThat(response().status).isEqualTo(NetifConstants.NETIF_RSP_ERROR);
        assertThat(response().status).isEqualTo(NetifConstants.NETIF_RSP_OKAY);
    }
}
