package io.backplane.ring;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * FrontRing and BackRing read every position from the RingLayout: a geometry with each index on
 * its own cache line and 64-byte slots (the 2013 hackathon's ideas, not in ring.h) works with
 * unchanged ring code.
 */
class AlternativeLayoutTest {

    /** Indexes on four cache lines, then 64-byte-aligned slots of 64 bytes. */
    private static final class SplitIndexLayout implements RingLayout {
        @Override
        public int entries() {
            return 32;
        }

        @Override
        public int bytes() {
            return 256 + 32 * 64;
        }

        @Override
        public int requestProducerOffset() {
            return 0;
        }

        @Override
        public int requestEventOffset() {
            return 64;
        }

        @Override
        public int responseProducerOffset() {
            return 128;
        }

        @Override
        public int responseEventOffset() {
            return 192;
        }

        @Override
        public int requestSlotsOffset() {
            return 256;
        }

        @Override
        public int requestSlotStride() {
            return 64;
        }

        @Override
        public int responseSlotsOffset() {
            return 256;
        }

        @Override
        public int responseSlotStride() {
            return 64;
        }

        @Override
        public int[] zeroedOnInit() {
            return new int[] {4, 60};
        }

        @Override
        public String describe() {
            return "split-index/32x64";
        }
    }

    @Test
    void ringCodeFollowsTheLayout() {
        RingLayout layout = new SplitIndexLayout();
        ByteBuffer buf = ByteBuffer.allocateDirect(layout.bytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        FrontRing front = FrontRing.init(buf, layout);
        BackRing back = BackRing.attach(buf, layout);
        assertThat(buf.getInt(64)).as("req_event on its own line").isEqualTo(1);
        assertThat(buf.getInt(192)).as("rsp_event on its own line").isEqualTo(1);

        NetifTxRequest req = new NetifTxRequest();
        NetifTxResponse rsp = new NetifTxResponse();
        for (int seq = 0; seq < 100; seq++) {
            TxPattern.fill(req, seq);
            front.putRequest(req);
            assertThat(front.pushRequestsAndCheckNotify()).isEqualTo(seq == 0);
            assertThat(buf.getInt(0)).isEqualTo(seq + 1);
            assertThat(back.unconsumedRequests()).isEqualTo(1);
            int slot = back.requestSlotOffset(back.requestConsumer());
            assertThat(slot).isEqualTo(256 + (seq % 32) * 64);
            back.copyRequest(req);
            assertThat(TxPattern.matches(req, seq)).isTrue();
            rsp.id = req.id;
            back.putResponse(rsp);
            back.pushResponses();
            assertThat(buf.getInt(128)).isEqualTo(seq + 1);
            assertThat(front.unconsumedResponses()).isEqualTo(1);
            assertThat(front.copyResponse(rsp).id).isEqualTo(TxPattern.id(seq));
        }
    }
}
