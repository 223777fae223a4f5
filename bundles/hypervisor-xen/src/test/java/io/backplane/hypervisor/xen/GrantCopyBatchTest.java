package io.backplane.hypervisor.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.hypervisor.xen.abi.GntdevAbi.GrantCopySegment;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What reaches the gntdev copy ioctl and what is settled before it: needs no /dev/xen, so it
 * runs everywhere and pins the encoding of the segments the kernel reads.
 */
class GrantCopyBatchTest {
    private static NativeIo io;

    @BeforeAll
    static void loadLibc() {
        io = new NativeIo();
    }

    @Test
    void foreignToLocalAndLocalToForeignBecomeSegmentsWithTheirFlags() {
        ByteBuffer local = ByteBuffer.allocateDirect(8192);
        int[] status = {99, 99};
        GrantCopyBatch batch = GrantCopyBatch.prepare(io, List.of(
                GrantCopy.fromGrant(7, 0x1234, 100, local, 4000, 300),
                GrantCopy.toGrant(local, 16, 0xFFFE, 9, 4095, 1)), status);

        assertThat(batch.count()).isEqualTo(2);
        assertThat(status).as("left for the kernel to fill").containsExactly(99, 99);
        ByteBuffer s = batch.segments();
        assertThat(s.getInt(GrantCopySegment.SOURCE + GrantCopySegment.FOREIGN_REF)).isEqualTo(0x1234);
        assertThat(s.getShort(GrantCopySegment.SOURCE + GrantCopySegment.FOREIGN_OFFSET)).isEqualTo((short) 100);
        assertThat(s.getShort(GrantCopySegment.SOURCE + GrantCopySegment.FOREIGN_DOMID)).isEqualTo((short) 7);
        assertThat(s.getLong(GrantCopySegment.DEST + GrantCopySegment.VIRT)).isEqualTo(io.address(local) + 4000);
        assertThat(s.getShort(GrantCopySegment.LEN)).isEqualTo((short) 300);
        assertThat(s.getShort(GrantCopySegment.FLAGS)).isEqualTo((short) GrantCopySegment.GNTCOPY_SOURCE_GREF);

        int second = GrantCopySegment.SIZE;
        assertThat(s.getLong(second + GrantCopySegment.SOURCE + GrantCopySegment.VIRT)).isEqualTo(io.address(local) + 16);
        assertThat(s.getShort(second + GrantCopySegment.DEST + GrantCopySegment.FOREIGN_DOMID) & 0xFFFF).isEqualTo(0xFFFE);
        assertThat(s.getShort(second + GrantCopySegment.FLAGS)).isEqualTo((short) GrantCopySegment.GNTCOPY_DEST_GREF);
        assertThat(batch.operation(1)).isEqualTo(1);
        assertThat(batch.segmentStatus(0)).as("preset until the kernel writes it")
                .isEqualTo(GrantStatus.GENERAL_ERROR.code());
    }

    @Test
    void whatGntdevWouldRejectWhollyIsSettledPerOperationWithXensCode() {
        ByteBuffer local = ByteBuffer.allocateDirect(64);
        int[] status = new int[5];
        GrantCopyBatch batch = GrantCopyBatch.prepare(io, List.of(
                GrantCopy.fromGrant(1, 5, 4000, local, 0, 97),                         // crosses the page
                GrantCopy.fromGrant(1, 5, 0, ByteBuffer.allocate(64), 0, 8),           // heap: no address
                GrantCopy.fromGrant(1, 5, 0, local.asReadOnlyBuffer(), 0, 8),          // written read-only
                GrantCopy.toGrant(local, 60, 1, 5, 0, 8),                              // beyond the buffer
                GrantCopy.fromGrant(1, 5, 0, local, 0, 8)), status);                  // fine

        assertThat(status).startsWith(GrantStatus.BAD_COPY_ARG.code(), GrantStatus.BAD_VIRT_ADDR.code(),
                GrantStatus.BAD_VIRT_ADDR.code(), GrantStatus.BAD_VIRT_ADDR.code());
        assertThat(batch.count()).isEqualTo(1);
        assertThat(batch.operation(0)).isEqualTo(4);
        assertThat(batch.single(0).segments().getShort(GrantCopySegment.LEN)).isEqualTo((short) 8);
    }

    @Test
    void localToLocalIsCopiedHereBecauseGntdevRefusesIt() {
        ByteBuffer a = ByteBuffer.allocateDirect(16);
        ByteBuffer b = ByteBuffer.allocateDirect(16);
        for (int i = 0; i < 16; i++) {
            a.put(i, (byte) i);
        }
        int[] status = {42};
        GrantCopyBatch batch = GrantCopyBatch.prepare(io,
                List.of(new GrantCopy(new GrantCopy.Local(a, 4), new GrantCopy.Local(b, 8), 6)), status);

        assertThat(batch.count()).isZero();
        assertThat(status[0]).isEqualTo(GrantStatus.OKAY.code());
        assertThat(b.get(8)).isEqualTo((byte) 4);
        assertThat(b.get(13)).isEqualTo((byte) 9);
        assertThat(b.get(14)).isZero();
    }

    @Test
    void aTooShortStatusArrayIsRefused() {
        ByteBuffer local = ByteBuffer.allocateDirect(8);
        assertThatThrownBy(() -> GrantCopyBatch.prepare(io, List.of(GrantCopy.fromGrant(1, 2, 0, local, 0, 8)), new int[0]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
