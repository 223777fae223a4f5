package io.backplane.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.ring.layout.SharedRingDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Every combination of the layout features runs FrontRing and BackRing unchanged, with each index
 * and slot where docs/ring-layouts.md puts it; no feature is ring.h's layout, byte for byte; and
 * negotiation refuses a frontend that lays out what was not offered.
 */
class RingShapeTest {

    private static RingShape shape(int flags) {
        return new RingShape((flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0);
    }

    @Test
    void theLegacyShapeIsRingHsLayout() {
        RingLayout l = RingShape.LEGACY.layout("blkif", 4, 112, 16);
        assertThat(l).isInstanceOf(LegacyRingLayout.class);
        assertThat(l.describe()).isEqualTo("ring.h/4 pages/128x112");
        assertThat(RingShape.of(Map.of("feature-persistent", "1"))).isEqualTo(RingShape.LEGACY);
        assertThat(RingShape.LEGACY.features()).isEmpty();
        assertThat(RingShape.LEGACY.grantedPages(4)).isEqualTo(4);
    }

    @Test
    void eachShapeCarriesRequestsAndResponsesThroughItsOwnOffsets() {
        for (int flags = 1; flags < 8; flags++) {
            RingShape shape = shape(flags);
            assertThat(RingShape.of(shape.features())).isEqualTo(shape);
            RingLayout layout = shape.layout("netif-tx", 1, 12, 4);
            ByteBuffer buf = ByteBuffer.allocateDirect(layout.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < buf.capacity(); i++) {
                buf.put(i, (byte) 0x5a);
            }
            FrontRing front = FrontRing.init(buf, layout);
            BackRing back = BackRing.attach(buf, layout);
            // SHARED_RING_INIT: event indexes 1, every other header byte 0.
            assertThat(buf.getInt(layout.requestEventOffset())).as(layout.describe()).isEqualTo(1);
            assertThat(buf.getInt(layout.responseEventOffset())).isEqualTo(1);
            int[] zeroed = layout.zeroedOnInit();
            for (int r = 0; r < zeroed.length; r += 2) {
                for (int b = zeroed[r]; b < zeroed[r] + zeroed[r + 1]; b++) {
                    assertThat(buf.get(b)).as(layout.describe() + " byte " + b).isZero();
                }
            }
            if (shape.splitIndexes()) {
                int[] idx = {layout.requestProducerOffset(), layout.requestEventOffset(),
                    layout.responseProducerOffset(), layout.responseEventOffset()};
                for (int i = 0; i < 4; i++) {
                    for (int j = i + 1; j < 4; j++) {
                        assertThat(idx[i] / 64).as(layout.describe() + ": indexes on separate lines").isNotEqualTo(idx[j] / 64);
                    }
                }
            }
            if (shape.separateRings()) {
                assertThat(layout.responseSlotsOffset()).isGreaterThanOrEqualTo(SharedRingDescriptor.XEN_PAGE_SIZE);
                assertThat(layout.responseProducerOffset()).isEqualTo(SharedRingDescriptor.XEN_PAGE_SIZE);
                assertThat(layout.bytes()).isEqualTo(2 * SharedRingDescriptor.XEN_PAGE_SIZE);
            }
            if (shape.alignedSlots()) {
                assertThat(layout.requestSlotStride()).isEqualTo(16);
                assertThat(layout.requestSlotsOffset() % 64).isZero();
            }

            NetifTxRequest req = new NetifTxRequest();
            NetifTxResponse rsp = new NetifTxResponse();
            int n = layout.entries() * 3 + 5;             // wraps the slot arrays
            for (int seq = 0; seq < n; seq++) {
                TxPattern.fill(req, seq);
                front.putRequest(req);
                front.pushRequests();
                assertThat(buf.getInt(layout.requestProducerOffset())).isEqualTo(seq + 1);
                assertThat(back.unconsumedRequests()).isEqualTo(1);
                assertThat(back.requestSlotOffset(back.requestConsumer()))
                        .isEqualTo(layout.requestSlotsOffset() + (seq % layout.entries()) * layout.requestSlotStride());
                back.copyRequest(req);
                assertThat(TxPattern.matches(req, seq)).as(layout.describe() + " request " + seq).isTrue();
                rsp.id = req.id;
                rsp.status = (short) (seq & 1);
                back.putResponse(rsp);
                back.pushResponses();
                assertThat(buf.getInt(layout.responseProducerOffset())).isEqualTo(seq + 1);
                assertThat(front.unconsumedResponses()).isEqualTo(1);
                front.copyResponse(rsp);
                assertThat(rsp.id).isEqualTo(TxPattern.id(seq));
                assertThat(rsp.status).isEqualTo((short) (seq & 1));
            }
        }
    }

    @Test
    void aFrontendAskingForWhatWasNotOfferedIsRefused() {
        RingShape offer = RingShape.of(Map.of(RingShape.SPLIT_INDEXES, "1", RingShape.SEPARATE_RINGS, "0"));
        Map<String, String> fe = Map.of(RingShape.SPLIT_INDEXES, "1");
        assertThat(RingShape.negotiate(offer, k -> Optional.ofNullable(fe.get(k)), "/fe"))
                .isEqualTo(new RingShape(true, false, false));
        assertThat(RingShape.negotiate(offer, k -> Optional.empty(), "/fe")).isEqualTo(RingShape.LEGACY);
        assertThatThrownBy(() -> RingShape.negotiate(offer, k -> k.equals(RingShape.SEPARATE_RINGS)
                ? Optional.of("1") : Optional.empty(), "/fe"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/fe/feature-separate-rings is 1 but the backend does not offer");
        assertThatThrownBy(() -> RingShape.negotiate(offer, k -> Optional.of("yes"), "/fe"))
                .hasMessageContaining("reading /fe/feature-split-indexes: 'yes' is not 0 or 1");
    }

    @Test
    void describesWhatARingRuns() {
        assertThat(shape(5).layout("blkif", 2, 112, 16).describe())
                .isEqualTo("split-indexes+separate-rings/2x2 pages/64x112+16");
        assertThat(shape(2).layout("blkif", 1, 112, 16).describe()).isEqualTo("aligned-slots/1 page/16x128");
        assertThat(shape(4).grantedPages(4)).isEqualTo(8);
    }
}
