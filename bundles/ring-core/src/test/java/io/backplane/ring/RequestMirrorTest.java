package io.backplane.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.ring.layout.NetifConstants;
import io.backplane.ring.layout.NetifTxRequestDescriptor;
import io.backplane.ring.layout.SharedRingDescriptor;
import io.backplane.ring.layout.SplitIndexDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request mirror against the crash it is for: a backend takes requests, writes responses
 * into their slots and dies before publishing rsp_prod. One thread plays the frontend, the dead
 * backend (whose objects are simply dropped: all that survives is the shared page and the mirror
 * file) and its successor.
 */
class RequestMirrorTest {

    private static final LegacyRingLayout TX = LegacyRingLayout.ofPages(1, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH);

    private final ByteBuffer page = ByteBuffer.allocateDirect(SharedRingDescriptor.XEN_PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    private static void pushTx(FrontRing front, int id) {
        int slot = front.nextRequestSlot();
        ByteBuffer b = front.buffer();
        b.putInt(slot + NetifTxRequestDescriptor.GREF_OFFSET, 1000 + id);
        b.putShort(slot + NetifTxRequestDescriptor.ID_OFFSET, (short) id);
        b.putShort(slot + NetifTxRequestDescriptor.SIZE_OFFSET, (short) (60 + id));
    }

    private static void answer(BackRing back, int id) {
        NetifTxResponse rsp = new NetifTxResponse();
        rsp.id = id;
        rsp.status = NetifConstants.NETIF_RSP_OKAY;
        back.putResponse(rsp);
    }

    /** 10 requests published; the dead backend took 8, answered 3 (published) and then 4 more (not published). */
    private FrontRing crashWithUnpublishedResponses(BackRing dead) {
        FrontRing front = FrontRing.init(page, TX);
        for (int i = 0; i < 10; i++) {
            pushTx(front, i);
        }
        front.pushRequestsAndCheckNotify();
        NetifTxRequest req = new NetifTxRequest();
        dead.unconsumedRequests();
        for (int i = 0; i < 8; i++) {
            assertThat(dead.copyRequest(req).id).isEqualTo(i);
        }
        for (int i = 0; i < 3; i++) {
            answer(dead, i);
        }
        dead.pushResponses();
        for (int i = 3; i < 7; i++) {
            answer(dead, i);                      // written over slots 3..6, never published: killed here
        }
        return front;
    }

    @Test
    void aSuccessorServesTheRequestsWhoseSlotsHoldUnpublishedResponsesFromTheMirror() {
        Path file = dir.resolve("queue-0-tx.requests");
        FrontRing front = crashWithUnpublishedResponses(BackRing.attach(page, TX, RequestMirror.map(file, TX, false)));

        RequestMirror kept = RequestMirror.map(file, TX, true);
        assertThat(kept.kept()).isTrue();
        assertThat(kept.requestConsumer()).isEqualTo(8);
        BackRing back = BackRing.reattach(page, TX, kept);
        assertThat(back.replayedFromMirror()).as("taken, not answered in public").isEqualTo(5);
        assertThat(back.requestConsumer()).isEqualTo(3);
        assertThat(back.unconsumedRequests()).isEqualTo(7);
        NetifTxRequest req = new NetifTxRequest();
        for (int i = 3; i < 10; i++) {
            assertThat(back.peekRequestU16(NetifTxRequestDescriptor.SIZE_OFFSET)).isEqualTo(60 + i);
            back.copyRequest(req);
            assertThat(req.id).as("request %d as the frontend wrote it", i).isEqualTo(i);
            assertThat(req.gref).isEqualTo(1000 + i);
            assertThat(req.size).isEqualTo(60 + i);
            answer(back, i);
        }
        back.pushResponses();
        assertThat(kept.requestConsumer()).isEqualTo(10);
        NetifTxResponse rsp = new NetifTxResponse();
        assertThat(front.unconsumedResponses()).isEqualTo(10);
        for (int i = 0; i < 10; i++) {
            assertThat(front.copyResponse(rsp).id).as("response %d answers request %d once", i, i).isEqualTo(i);
        }
    }

    /** What the mirror is for: without it the successor takes the dead backend's responses for requests. */
    @Test
    void withoutAMirrorTheSuccessorReadsResponsesAsRequests() {
        crashWithUnpublishedResponses(BackRing.attach(page, TX));
        BackRing back = BackRing.reattach(page, TX);
        back.unconsumedRequests();
        NetifTxRequest req = new NetifTxRequest();
        back.copyRequest(req);
        assertThat(req.gref).as("slot 3 holds netif_tx_response {id 3, status 0}, not request 3 (gref 1003)")
                .isNotEqualTo(1003);
    }

    @Test
    void aMirrorThatDoesNotFitTheRingIsStartedAfreshAtRspProd() throws Exception {
        Path file = dir.resolve("q.requests");
        FrontRing front = crashWithUnpublishedResponses(BackRing.attach(page, TX, RequestMirror.map(file, TX, false)));
        // Another geometry's mirror, or none: the file is started afresh, the ring served as without one.
        RequestMirror other = RequestMirror.map(file, LegacyRingLayout.ofPages(2, SharedRingDescriptor.NETIF_TX_ENTRY_LENGTH), true);
        assertThat(other.kept()).isFalse();
        RequestMirror fresh = RequestMirror.map(file, TX, true);
        assertThat(fresh.kept()).as("overwritten by the other geometry's header").isFalse();
        BackRing back = BackRing.reattach(page, TX, fresh);
        assertThat(back.replayedFromMirror()).isEqualTo(-1);
        assertThat(fresh.requestConsumer()).isEqualTo(3);
        assertThat(back.unconsumedRequests()).isEqualTo(7);
        // A mirror at a req_cons beyond req_prod is not this ring's either.
        Files.delete(file);
        RequestMirror ahead = RequestMirror.map(file, TX, false);
        BackRing.attach(page, TX, 12, ahead);
        RequestMirror again = RequestMirror.map(file, TX, true);
        assertThat(again.kept()).isTrue();
        assertThat(BackRing.reattach(page, TX, again).replayedFromMirror()).isEqualTo(-1);
        assertThat(again.requestConsumer()).isEqualTo(3);
        assertThat(front.unconsumedResponses()).isEqualTo(3);
    }

    @Test
    void aHandedOverRingReplaysNothingAndAHotSwapCarriesTheMirror() {
        Path file = dir.resolve("q.requests");
        FrontRing front = FrontRing.init(page, TX);
        BackRing first = BackRing.attach(page, TX, RequestMirror.map(file, TX, false));
        for (int i = 0; i < 5; i++) {
            pushTx(front, i);
        }
        front.pushRequestsAndCheckNotify();
        first.unconsumedRequests();
        NetifTxRequest req = new NetifTxRequest();
        for (int i = 0; i < 5; i++) {
            first.copyRequest(req);
            answer(first, i);
        }
        first.pushResponses();
        BackRing swapped = BackRing.attach(page, TX, first.requestConsumer(), first.mirror());
        assertThat(swapped.mirror()).isSameAs(first.mirror());
        assertThat(BackRing.reattach(page, TX, RequestMirror.map(file, TX, true)).replayedFromMirror()).isZero();
    }

    @Test
    void onlyRingsWhoseResponsesOverwriteRequestsNeedOne() {
        assertThat(RequestMirror.needed(TX)).isTrue();
        assertThat(RequestMirror.needed(new RingLayout() {
            public int entries() { return 32; }
            public int bytes() { return 8192; }
            public int requestProducerOffset() { return 0; }
            public int requestEventOffset() { return 4; }
            public int responseProducerOffset() { return 8; }
            public int responseEventOffset() { return 12; }
            public int requestSlotsOffset() { return SplitIndexDescriptor.HEADER_LENGTH; }
            public int requestSlotStride() { return 112; }
            public int responseSlotsOffset() { return 4096; }
            public int responseSlotStride() { return 16; }
            public int[] zeroedOnInit() { return new int[0]; }
            public String describe() { return "separate"; }
        })).isFalse();
    }

    @Test
    void aMirroredRingIsTakenOnlyByCopy() {
        FrontRing front = FrontRing.init(page, TX);
        pushTx(front, 0);
        front.pushRequestsAndCheckNotify();
        BackRing back = BackRing.attach(page, TX, RequestMirror.map(dir.resolve("m"), TX, false));
        back.unconsumedRequests();
        assertThatThrownBy(back::nextRequestSlot).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> back.consumeRequests(1)).isInstanceOf(IllegalStateException.class);
    }

    /**
     * Requests copied ahead of req_cons (netback's RX, which sizes a frame only after reading it
     * into the buffers of several requests): each is fetched once, into the mirror, and consumed
     * only as used; what the frontend writes into a copied slot afterwards is not what is served,
     * a successor serves the same copies, and copying out of order or consuming uncopied ones is refused.
     */
    @Test
    void requestsCopiedAheadAreFetchedOnceAndConsumedAsUsed() {
        FrontRing front = FrontRing.init(page, TX);
        for (int i = 0; i < 6; i++) {
            pushTx(front, i);
        }
        front.pushRequestsAndCheckNotify();
        Path file = dir.resolve("ahead");
        BackRing back = BackRing.attach(page, TX, RequestMirror.map(file, TX, false));
        assertThat(back.unconsumedRequests()).isEqualTo(6);
        NetifTxRequest req = new NetifTxRequest();
        assertThatThrownBy(() -> back.copyRequestAhead(1, req)).as("in order").isInstanceOf(IllegalStateException.class);
        for (int i = 0; i < 4; i++) {
            assertThat(back.copyRequestAhead(i, req).id).isEqualTo(i);
        }
        assertThatThrownBy(() -> back.copyRequestAhead(6, req)).as("not published").isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> back.consumeCopiedRequests(5)).as("not copied").isInstanceOf(IllegalStateException.class);
        back.consumeCopiedRequests(2);
        assertThat(back.requestConsumer()).isEqualTo(2);
        assertThat(back.copyRequestAhead(0, req).id).as("request 2, copied before").isEqualTo(2);
        answer(back, 0);
        answer(back, 1);
        back.pushResponses();
        assertThat(back.copyRequest(req).id).isEqualTo(2);
        // The frontend rewrites slot 3 after publishing it: the copy taken before stands, here and for a
        // successor, which serves what was copied ahead (taken, unanswered) from the mirror.
        page.putShort(TX.requestSlotsOffset() + 3 * TX.requestSlotStride() + NetifTxRequestDescriptor.ID_OFFSET, (short) 99);
        assertThat(back.copyRequest(req).id).isEqualTo(3);
        BackRing successor = BackRing.reattach(page, TX, RequestMirror.map(file, TX, true));
        assertThat(successor.replayedFromMirror()).isEqualTo(2);
        successor.unconsumedRequests();
        assertThat(successor.copyRequest(req).id).isEqualTo(2);
        assertThat(successor.copyRequest(req).id).isEqualTo(3);
        assertThat(successor.copyRequest(req).id).isEqualTo(4);
    }
}
