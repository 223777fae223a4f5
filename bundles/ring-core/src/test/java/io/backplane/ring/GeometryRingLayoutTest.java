package io.backplane.ring;

import io.backplane.api.ring.RingGeometry;
import io.backplane.ring.layout.SharedRingDescriptor;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GeometryRingLayoutTest {

    @Test
    void legacyGeometryIsRingHsLayout() {
        RingGeometry blk4 = GeometryRingLayout.legacy(4, 112, 16);
        assertThat(blk4.entries()).isEqualTo(128);
        assertThat(blk4.bytes()).isEqualTo(4 * 4096);
        assertThat(blk4.requestSlotsOffset()).isEqualTo(SharedRingDescriptor.ENTRIES_OFFSET);
        assertThat(blk4.requestSlotStride()).isEqualTo(112);
        assertThat(blk4.responseSlotStride()).isEqualTo(112);
        assertThat(blk4.describe()).isEqualTo("ring.h/4 pages/128x112");
        assertThat(GeometryRingLayout.legacy(1, 12, 4).entries()).isEqualTo(256);
    }

    @Test
    void aFrontRingAndABackRingOnTheGeometryTalk() {
        ByteBuffer page = ByteBuffer.allocateDirect(4096).order(ByteOrder.LITTLE_ENDIAN);
        RingLayout layout = GeometryRingLayout.of(GeometryRingLayout.legacy(1, 12, 4));
        FrontRing front = FrontRing.init(page, LegacyRingLayout.ofPages(1, 12));
        BackRing back = BackRing.attach(page, layout);
        NetifTxRequest req = new NetifTxRequest();
        for (int i = 0; i < 3; i++) {
            req.gref = 100 + i;
            req.id = i;
            req.size = 60;
            front.putRequest(req);
        }
        front.pushRequests();
        assertThat(back.unconsumedRequests()).isEqualTo(3);
        NetifTxRequest got = new NetifTxRequest();
        back.copyRequest(got);
        assertThat(got.gref).isEqualTo(100);
    }

    @Test
    void refusesIndexesOrSlotsOutsideTheRing() {
        assertThatThrownBy(() -> GeometryRingLayout.of(new RingGeometry(256, 4096, 0, 4, 8, 4094, 64, 12, 64, 12, "bad")))
                .hasMessageContaining("rsp_event at 4094");
        assertThatThrownBy(() -> GeometryRingLayout.of(new RingGeometry(512, 4096, 0, 4, 8, 12, 64, 12, 64, 12, "big")))
                .hasMessageContaining("512 request slots of 12 bytes at 64 do not fit in 4096 bytes");
    }
}
