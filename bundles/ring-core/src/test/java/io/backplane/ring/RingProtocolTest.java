package io.backplane.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.ring.layout.BlkifConstants;
import io.backplane.ring.layout.BlkifRequestDescriptor;
import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.layout.NetifTxRequestDescriptor;
import io.backplane.ring.layout.SharedRingDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** ring.h semantics of FrontRing and BackRing on one buffer, one thread playing both ends. */
class RingProtocolTest {

    private static final LegacyRingLayout TX = LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);

    private final ByteBuffer page = ByteBuffer.allocateDirect(SharedRingDescriptor.XEN_PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);

    private static void pushTx(FrontRing front, int id) {
        int slot = front.nextRequestSlot();
        ByteBuffer b = front.buffer();
        b.putInt(slot + NetifTxRequestDescriptor.GREF_OFFSET, 1000 + id);
        b.putShort(slot + NetifTxRequestDescriptor.ID_OFFSET, (short) id);
        b.putShort(slot + NetifTxRequestDescriptor.SIZE_OFFSET, (short) 60);
    }

    private static NetifTxRequest popTx(BackRing back, NetifTxRequest into) {
        return back.copyRequest(into);
    }

    private static void answer(BackRing back, int id) {
        NetifTxResponse rsp = new NetifTxResponse();
        rsp.id = id;
        rsp.status = NetifConstants.NETIF_RSP_OKAY;
        back.putResponse(rsp);
    }

    @Test
    void sharedRingInitWritesTheHeaderLikeSharedRingInit() {
        for (int i = 0; i < page.capacity(); i++) {
            page.put(i, (byte) 0xa5);
        }
        FrontRing front = FrontRing.init(page, TX);
        assertThat(page.getInt(SharedRingDescriptor.REQ_PROD_OFFSET)).isZero();
        assertThat(page.getInt(SharedRingDescriptor.RSP_PROD_OFFSET)).isZero();
        assertThat(page.getInt(SharedRingDescriptor.REQ_EVENT_OFFSET)).isEqualTo(1);
        assertThat(page.getInt(SharedRingDescriptor.RSP_EVENT_OFFSET)).isEqualTo(1);
        for (int i = SharedRingDescriptor.PVT_OFFSET; i < SharedRingDescriptor.ENTRIES_OFFSET; i++) {
            assertThat(page.get(i)).as("header byte %d", i).isZero();
        }
        assertThat(page.get(SharedRingDescriptor.ENTRIES_OFFSET)).as("slots are not touched").isEqualTo((byte) 0xa5);
        assertThat(front.size()).isEqualTo(256);
        assertThat(front.freeRequests()).isEqualTo(256);
        assertThat(front.isFull()).isFalse();
    }

    @Test
    void firstPushNotifiesThenHoldsOffUntilTheBackendAsksAgain() {
        FrontRing front = FrontRing.init(page, TX);
        BackRing back = BackRing.attach(page, TX);

        pushTx(front, 0);
        assertThat(front.pushRequestsAndCheckNotify()).as("req_event 1 lies in (0,1]").isTrue();
        pushTx(front, 1);
        assertThat(front.pushRequestsAndCheckNotify()).as("req_event 1 is not in (1,2]").isFalse();

        NetifTxRequest req = new NetifTxRequest();
        assertThat(back.unconsumedRequests()).isEqualTo(2);
        assertThat(popTx(back, req).id).isEqualTo(0);
        assertThat(popTx(back, req).id).isEqualTo(1);
        assertThat(req.gref).isEqualTo(1001);
        assertThat(back.finalCheckForRequests()).as("nothing left").isFalse();
        assertThat(page.getInt(SharedRingDescriptor.REQ_EVENT_OFFSET)).as("req_event = req_cons + 1").isEqualTo(3);

        pushTx(front, 2);
        pushTx(front, 3);
        assertThat(front.pushRequestsAndCheckNotify()).as("req_event 3 lies in (2,4]").isTrue();
        assertThat(back.finalCheckForRequests()).as("work pending, req_event untouched").isTrue();
        assertThat(page.getInt(SharedRingDescriptor.REQ_EVENT_OFFSET)).isEqualTo(3);
    }

    @Test
    void responsesNotifyByRspEventAndTheFrontendFinalCheckRearms() {
        FrontRing front = FrontRing.init(page, TX);
        BackRing back = BackRing.attach(page, TX);
        for (int i = 0; i < 4; i++) {
            pushTx(front, i);
        }
        front.pushRequests();
        NetifTxRequest req = new NetifTxRequest();
        assertThat(back.unconsumedRequests()).isEqualTo(4);
        for (int i = 0; i < 4; i++) {
            answer(back, popTx(back, req).id);
        }
        assertThat(back.pushResponsesAndCheckNotify()).as("rsp_event 1 lies in (0,4]").isTrue();

        NetifTxResponse rsp = new NetifTxResponse();
        assertThat(front.unconsumedResponses()).isEqualTo(4);
        for (int i = 0; i < 4; i++) {
            assertThat(front.copyResponse(rsp).id).isEqualTo(i);
            assertThat(rsp.status).isEqualTo(NetifConstants.NETIF_RSP_OKAY);
        }
        assertThat(front.finalCheckForResponses()).isFalse();
        assertThat(page.getInt(SharedRingDescriptor.RSP_EVENT_OFFSET)).isEqualTo(5);

        pushTx(front, 4);
        front.pushRequests();
        back.unconsumedRequests();
        answer(back, popTx(back, req).id);
        assertThat(back.pushResponsesAndCheckNotify()).as("rsp_event 5 lies in (4,5]").isTrue();
        assertThatThrownBy(() -> answer(back, 7)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no consumed request");
    }

    @Test
    void fullRingRefusesAnotherRequestUntilAResponseIsConsumed() {
        FrontRing front = FrontRing.init(page, TX);
        BackRing back = BackRing.attach(page, TX);
        for (int i = 0; i < 256; i++) {
            pushTx(front, i);
        }
        assertThat(front.isFull()).isTrue();
        assertThatThrownBy(() -> pushTx(front, 256)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ring full");
        front.pushRequests();

        NetifTxRequest req = new NetifTxRequest();
        assertThat(back.unconsumedRequests()).isEqualTo(256);
        answer(back, popTx(back, req).id);
        back.pushResponses();
        assertThat(front.isFull()).as("a response is not free until consumed").isTrue();
        assertThat(front.unconsumedResponses()).isEqualTo(1);
        front.copyResponse(new NetifTxResponse());
        assertThat(front.freeRequests()).isEqualTo(1);
        pushTx(front, 256);
        front.pushRequests();
        assertThat(back.unconsumedRequests()).isEqualTo(256);
    }

    /**
     * A backend that took 6 of 10 requests, answered and published 3 of those, then died: a new
     * one re-attaches at the published rsp_prod and serves the 7 requests the frontend still
     * waits for, each once. (Had the dead one written an answer it did not publish, that answer
     * would sit in the slot of request 3: ring.h shares slots between requests and responses, so
     * that request could not be read again. docs/backends.md says what that means for a crash.)
     */
    @Test
    void reattachServesEverythingAfterThePublishedResponses() {
        FrontRing front = FrontRing.init(page, TX);
        BackRing dead = BackRing.attach(page, TX);
        NetifTxRequest req = new NetifTxRequest();
        for (int i = 0; i < 10; i++) {
            pushTx(front, i);
        }
        front.pushRequestsAndCheckNotify();
        dead.unconsumedRequests();
        for (int i = 0; i < 6; i++) {
            popTx(dead, req);
        }
        for (int i = 0; i < 3; i++) {
            answer(dead, i);
        }
        dead.pushResponses();

        BackRing back = BackRing.reattach(page, TX);
        assertThat(back.requestConsumer()).isEqualTo(3);
        assertThat(back.responseProducerPrivate()).isEqualTo(3);
        assertThat(back.unconsumedRequests()).isEqualTo(7);
        for (int i = 3; i < 10; i++) {
            assertThat(popTx(back, req).id).isEqualTo(i);
            answer(back, i);
        }
        back.pushResponses();
        NetifTxResponse rsp = new NetifTxResponse();
        assertThat(front.unconsumedResponses()).isEqualTo(10);
        for (int i = 0; i < 10; i++) {
            assertThat(front.copyResponse(rsp).id).as("response %d answers request %d once", i, i).isEqualTo(i);
        }
    }

    @Test
    void reattachRefusesAReqProdMoreThanARingAhead() {
        FrontRing.init(page, TX);
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, 257);
        assertThatThrownBy(() -> BackRing.reattach(page, TX)).isInstanceOf(RingOverflowException.class)
                .hasMessageContaining("req_prod 257");
    }

    @Test
    void indexesWrapAroundU32() {
        int start = -20; // 0xffffffec: 40 requests cross the u32 wrap
        FrontRing.init(page, TX);
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, start);
        page.putInt(SharedRingDescriptor.RSP_PROD_OFFSET, start);
        page.putInt(SharedRingDescriptor.REQ_EVENT_OFFSET, start + 1);
        page.putInt(SharedRingDescriptor.RSP_EVENT_OFFSET, start + 1);
        FrontRing front = FrontRing.attach(page, TX, start);
        BackRing back = BackRing.attach(page, TX, start);

        NetifTxRequest req = new NetifTxRequest();
        NetifTxResponse rsp = new NetifTxResponse();
        for (int round = 0; round < 4; round++) {
            for (int i = 0; i < 10; i++) {
                pushTx(front, round * 10 + i);
            }
            assertThat(front.pushRequestsAndCheckNotify()).isTrue();
            assertThat(back.unconsumedRequests()).isEqualTo(10);
            for (int i = 0; i < 10; i++) {
                assertThat(popTx(back, req).id).isEqualTo(round * 10 + i);
                answer(back, req.id);
            }
            assertThat(back.finalCheckForRequests()).isFalse();
            assertThat(back.pushResponsesAndCheckNotify()).isEqualTo(round == 0);
            assertThat(front.unconsumedResponses()).isEqualTo(10);
            for (int i = 0; i < 10; i++) {
                assertThat(front.copyResponse(rsp).id).isEqualTo(round * 10 + i);
            }
        }
        assertThat(front.requestProducerPrivate()).isEqualTo(20);
        assertThat(back.requestConsumer()).isEqualTo(20);
        assertThat(page.getInt(SharedRingDescriptor.REQ_PROD_OFFSET)).isEqualTo(20);
        assertThat(page.getInt(SharedRingDescriptor.REQ_EVENT_OFFSET)).isEqualTo(21);
        assertThat(front.freeRequests()).isEqualTo(256);
    }

    @Test
    void aFrontendPublishingTooManyRequestsIsCaught() {
        FrontRing.init(page, TX);
        BackRing back = BackRing.attach(page, TX);
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, 256);
        assertThat(back.unconsumedRequests()).isEqualTo(256);
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, 257);
        assertThatThrownBy(back::unconsumedRequests).isInstanceOf(RingOverflowException.class)
                .hasMessage("Impossible number of requests: req_prod 257, req_cons 0, rsp_prod_pvt 0, ring size 256")
                .satisfies(e -> assertThat(((RingOverflowException) e).producer()).isEqualTo(257));
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, -1);
        assertThatThrownBy(back::finalCheckForRequests).as("req_prod moved backwards")
                .isInstanceOf(RingOverflowException.class);
    }

    @Test
    void overflowIsMeasuredFromTheResponseProducerAcrossTheWrap() {
        int start = -11;
        FrontRing.init(page, TX);
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, start);
        BackRing back = BackRing.attach(page, TX, start);
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, start + 256);
        assertThat(back.unconsumedRequests()).isEqualTo(256);
        for (int i = 0; i < 100; i++) {
            back.nextRequestSlot();
        }
        assertThat(back.requestConsumerOverflow(back.requestConsumer())).isFalse();
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, start + 257);
        assertThatThrownBy(back::unconsumedRequests).as("100 consumed but unanswered: their slots are not free")
                .isInstanceOf(RingOverflowException.class);
        for (int i = 0; i < 100; i++) {
            back.nextResponseSlot();
        }
        back.pushResponses();
        assertThat(back.unconsumedRequests()).isEqualTo(157);
    }

    @Test
    void aFrontendMovingReqProdBehindReqConsIsCaught() {
        FrontRing.init(page, TX);
        BackRing back = BackRing.attach(page, TX);
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, 100);
        assertThat(back.unconsumedRequests()).isEqualTo(100);
        for (int i = 0; i < 100; i++) {
            back.nextRequestSlot();
        }
        for (int i = 0; i < 50; i++) {
            back.nextResponseSlot();
        }
        // 60 - rsp_prod_pvt 50 is within the ring, but requests 60..99 were already consumed
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, 60);
        assertThatThrownBy(back::unconsumedRequests).isInstanceOf(RingOverflowException.class)
                .hasMessage("Impossible number of requests: req_prod 60, req_cons 100, rsp_prod_pvt 50, ring size 256");
        page.putInt(SharedRingDescriptor.REQ_PROD_OFFSET, 100);
        assertThat(back.unconsumedRequests()).isZero();
    }

    @Test
    void aBackendPublishingTooManyResponsesIsCaught() {
        FrontRing front = FrontRing.init(page, TX);
        page.putInt(SharedRingDescriptor.RSP_PROD_OFFSET, 257);
        assertThatThrownBy(front::unconsumedResponses).isInstanceOf(RingOverflowException.class)
                .hasMessageContaining("Impossible number of responses");
    }

    @Test
    void consumingWithoutLookingFirstIsRefused() {
        FrontRing front = FrontRing.init(page, TX);
        BackRing back = BackRing.attach(page, TX);
        pushTx(front, 0);
        front.pushRequests();
        assertThatThrownBy(back::nextRequestSlot).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(front::nextResponseSlot).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aCopiedRequestIsNotChangedByALaterWriteToTheSlot() {
        LegacyRingLayout blk = LegacyRingLayout.ofPages(1, SharedRingDescriptor.BLKIF_ENTRY_LENGTH);
        FrontRing front = FrontRing.init(page, blk);
        BackRing back = BackRing.attach(page, blk);
        BlkifRequest out = new BlkifRequest().clear().operation(BlkifConstants.BLKIF_OP_WRITE).nrSegments(2)
                .handle(51712).id(0x1122334455667788L).sectorNumber(4096)
                .segment(0, 77, 0, 7).segment(1, 78, 2, 5);
        front.putRequest(out);
        front.pushRequests();

        BlkifRequest in = new BlkifRequest();
        assertThat(back.unconsumedRequests()).isEqualTo(1);
        int slot = back.requestSlotOffset(back.requestConsumer());
        back.copyRequest(in);
        // The guest rewrites the slot after the copy (the XSA-155 double-fetch attack).
        page.put(slot + BlkifRequestDescriptor.NR_SEGMENTS_OFFSET, (byte) 200);
        page.putInt(slot + BlkifRequestDescriptor.segmentOffset(1), 9999);

        assertThat(in.operation()).isEqualTo(BlkifConstants.BLKIF_OP_WRITE);
        assertThat(in.nrSegments()).isEqualTo(2);
        assertThat(in.handle()).isEqualTo(51712);
        assertThat(in.id()).isEqualTo(0x1122334455667788L);
        assertThat(in.sectorNumber()).isEqualTo(4096);
        assertThat(in.segmentGref(1)).isEqualTo(78);
        assertThat(in.segmentFirstSect(1)).isEqualTo(2);
        assertThat(in.segmentLastSect(1)).isEqualTo(5);
    }

    @Test
    void multiPageRingSpansItsPages() {
        LegacyRingLayout blk4 = LegacyRingLayout.ofPages(4, SharedRingDescriptor.BLKIF_ENTRY_LENGTH);
        ByteBuffer pages = ByteBuffer.allocateDirect(4 * SharedRingDescriptor.XEN_PAGE_SIZE);
        FrontRing front = FrontRing.init(pages, blk4);
        BackRing back = BackRing.attach(pages, blk4);
        assertThat(front.size()).isEqualTo(128);
        assertThat(front.requestSlotOffset(127)).isEqualTo(64 + 127 * 112);
        assertThat(front.requestSlotOffset(127) + 112).isLessThanOrEqualTo(4 * 4096);
        assertThat(front.slotsBeforeWrap(120)).isEqualTo(8);
        assertThat(blk4.describe()).isEqualTo("ring.h/4 pages/128x112");

        BlkifRequest req = new BlkifRequest();
        BlkifResponse rsp = new BlkifResponse();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 128; i++) {
                front.putRequest(req.clear().operation(BlkifConstants.BLKIF_OP_READ).id(round * 1000L + i));
            }
            front.pushRequests();
            assertThat(back.unconsumedRequests()).isEqualTo(128);
            for (int i = 0; i < 128; i++) {
                back.copyRequest(req);
                rsp.id = req.id();
                rsp.operation = req.operation();
                rsp.status = BlkifConstants.BLKIF_RSP_OKAY;
                back.putResponse(rsp);
            }
            back.pushResponses();
            assertThat(front.unconsumedResponses()).isEqualTo(128);
            for (int i = 0; i < 128; i++) {
                assertThat(front.copyResponse(rsp).id).isEqualTo(round * 1000L + i);
            }
        }
    }

    @Test
    void batchAccessSplitAtTheWrapPoint() {
        FrontRing front = FrontRing.init(page, TX);
        BackRing back = BackRing.attach(page, TX);
        ByteBuffer b = page;
        int seq = 0;
        int answered = 0;
        for (int round = 0; round < 5; round++) {
            // frontend: 100 requests, written in runs that stop at the end of the slot array
            int todo = 100;
            while (todo > 0) {
                int prod = front.requestProducerPrivate();
                int run = Math.min(todo, front.slotsBeforeWrap(prod));
                int off = front.requestSlotOffset(prod);
                for (int i = 0; i < run; i++, off += front.requestSlotStride()) {
                    b.putShort(off + NetifTxRequestDescriptor.ID_OFFSET, (short) seq++);
                }
                front.produceRequests(run);
                todo -= run;
            }
            front.pushRequests();

            // backend: the same, reading requests and writing responses in place
            int n = back.unconsumedRequests();
            assertThat(n).isEqualTo(100);
            while (n > 0) {
                int cons = back.requestConsumer();
                int run = Math.min(n, back.slotsBeforeWrap(cons));
                int in = back.requestSlotOffset(cons);
                int out = back.responseSlotOffset(back.responseProducerPrivate());
                for (int i = 0; i < run; i++, in += back.requestSlotStride(), out += back.responseSlotStride()) {
                    short id = b.getShort(in + NetifTxRequestDescriptor.ID_OFFSET);
                    b.putShort(out, id);
                    b.putShort(out + 2, (short) NetifConstants.NETIF_RSP_OKAY);
                }
                back.consumeRequests(run);
                back.produceResponses(run);
                n -= run;
            }
            back.pushResponses();
            assertThatThrownBy(() -> back.consumeRequests(1)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> back.produceResponses(1)).isInstanceOf(IllegalStateException.class);

            int r = front.unconsumedResponses();
            NetifTxResponse rsp = new NetifTxResponse();
            for (int i = 0; i < r; i++) {
                assertThat(front.copyResponse(rsp).id).isEqualTo(answered++ & 0xffff);
            }
        }
        assertThat(answered).isEqualTo(500);
        assertThatThrownBy(() -> front.produceRequests(257)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> front.consumeResponses(1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void refusesBuffersThatCannotBeShared() {
        assertThatThrownBy(() -> FrontRing.init(ByteBuffer.allocate(4096), TX))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("direct");
        assertThatThrownBy(() -> BackRing.attach(ByteBuffer.allocateDirect(2048), TX))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 4096 bytes");
        assertThatThrownBy(() -> LegacyRingLayout.of(64, 12)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void twoThreadsExchangeRequestsWithCorrectOrdering() throws Exception {
        int total = 200_000;
        FrontRing front = FrontRing.init(page, TX);
        BackRing back = BackRing.attach(page, TX);
        Thread backend = new Thread(() -> {
            NetifTxRequest req = new NetifTxRequest();
            NetifTxResponse rsp = new NetifTxResponse();
            int done = 0;
            while (done < total) {
                int n = back.unconsumedRequests();
                if (n == 0) {
                    Thread.onSpinWait();
                    continue;
                }
                for (int i = 0; i < n; i++) {
                    back.copyRequest(req);
                    rsp.id = req.id;
                    rsp.status = req.gref == (req.id ^ 0x5a5a) && req.size == (req.id & 0x7ff) ? 0 : -1;
                    back.putResponse(rsp);
                }
                back.pushResponsesAndCheckNotify();
                done += n;
            }
        }, "ring-test-backend");
        backend.start();

        NetifTxRequest req = new NetifTxRequest();
        NetifTxResponse rsp = new NetifTxResponse();
        int sent = 0;
        int answered = 0;
        while (answered < total) {
            while (sent < total && !front.isFull()) {
                req.id = sent & 0xffff;
                req.gref = req.id ^ 0x5a5a;
                req.size = req.id & 0x7ff;
                front.putRequest(req);
                sent++;
            }
            front.pushRequestsAndCheckNotify();
            int n = front.unconsumedResponses();
            for (int i = 0; i < n; i++) {
                front.copyResponse(rsp);
                assertThat(rsp.id).isEqualTo(answered & 0xffff);
                assertThat(rsp.status).isZero();
                answered++;
            }
        }
        backend.join(10_000);
        assertThat(backend.isAlive()).isFalse();
    }
}
