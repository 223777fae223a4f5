package io.backplane.hypervisor.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.guest.sim.GuestGrantTable;
import io.backplane.guest.sim.SimGuest;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GNTTABOP_copy: a batch with a status per operation, bytes moved through the memory file. */
class GrantCopyTest {
    @TempDir
    static Path dir;
    static SimFixture fx;
    static SimGuest guest;
    static int domid;

    @BeforeAll
    static void start() throws Exception {
        fx = new SimFixture(new NativeIo(), dir);
        domid = fx.create("copies", 32).domid();
        guest = fx.attach(domid);
    }

    @AfterAll
    static void stop() {
        guest.close();
        fx.close();
    }

    @Test
    void aBatchCopiesBothWaysAndReportsEachRefusal() {
        long txFrame = guest.memory().allocPage();
        long rxFrame = guest.memory().allocPage();
        ByteBuffer tx = guest.memory().page(txFrame);
        for (int i = 0; i < 4096; i++) {
            tx.put(i, (byte) (i * 7));
        }
        int txRef = guest.grants().grantAccess(0, txFrame, true);
        int rxRef = guest.grants().grantAccess(0, rxFrame, false);
        int wrongDom = guest.grants().grantAccess(3, rxFrame, false);

        ByteBuffer local = ByteBuffer.allocateDirect(8192);
        ByteBuffer reply = ByteBuffer.allocateDirect(100);
        for (int i = 0; i < 100; i++) {
            reply.put(i, (byte) (200 - i));
        }
        List<GrantCopy> ops = List.of(
                GrantCopy.fromGrant(domid, txRef, 100, local, 10, 1500),           // 0 ok
                GrantCopy.toGrant(reply, 0, domid, rxRef, 4000, 96),                // 1 ok, to the page's end
                GrantCopy.toGrant(reply, 0, domid, rxRef, 4000, 97),                // 2 crosses the page
                GrantCopy.toGrant(reply, 0, domid, txRef, 0, 10),                   // 3 read-only grant as destination
                GrantCopy.fromGrant(domid, wrongDom, 0, local, 0, 10),              // 4 granted to domain 3
                GrantCopy.fromGrant(domid, 1 << 20, 0, local, 0, 10),               // 5 no such ref
                GrantCopy.fromGrant(77, txRef, 0, local, 0, 10),                    // 6 no such domain
                GrantCopy.fromGrant(domid, txRef, 0, ByteBuffer.allocate(64), 0, 10), // 7 not native memory
                new GrantCopy(new GrantCopy.Foreign(domid, txRef, 0), new GrantCopy.Foreign(domid, rxRef, 0), 8)); // 8 ok
        int[] status = new int[ops.size()];
        fx.sim.copy(ops, status);

        assertThat(status).containsExactly(GrantStatus.OKAY.code(), GrantStatus.OKAY.code(),
                GrantStatus.BAD_COPY_ARG.code(), GrantStatus.GENERAL_ERROR.code(), GrantStatus.GENERAL_ERROR.code(),
                GrantStatus.BAD_GNTREF.code(), GrantStatus.BAD_DOMAIN.code(), GrantStatus.BAD_VIRT_ADDR.code(),
                GrantStatus.OKAY.code());
        for (int i = 0; i < 1500; i++) {
            assertThat(local.get(10 + i)).isEqualTo((byte) ((100 + i) * 7));
        }
        ByteBuffer rx = guest.memory().page(rxFrame);
        for (int i = 0; i < 96; i++) {
            assertThat(rx.get(4000 + i)).isEqualTo((byte) (200 - i));
        }
        for (int i = 0; i < 8; i++) {
            assertThat(rx.get(i)).isEqualTo((byte) (i * 7));
        }
        assertThat(guest.grants().flags(txRef)).as("no pin left after the copy")
                .isEqualTo(GuestGrantTable.GTF_PERMIT_ACCESS | GuestGrantTable.GTF_READONLY);
        assertThat(fx.sim.pinnedGrants(domid)).isZero();
    }

    /** Xen's _set_status_v1 refuses GTF_sub_page only with mapflag: a v1 sub-page grant copies but never maps. */
    @Test
    void aSubPageGrantIsCopiedButNotMapped() {
        long frame = guest.memory().allocPage();
        guest.memory().page(frame).put(5, (byte) 42);
        int ref = guest.grants().grantAccess(0, frame, true);
        guest.grants().writeEntry(ref, GuestGrantTable.GTF_PERMIT_ACCESS | GuestGrantTable.GTF_READONLY
                | io.backplane.ring.layout.GrantEntryV1Descriptor.GTF_SUB_PAGE, 0, frame);
        ByteBuffer local = ByteBuffer.allocateDirect(16);
        int[] status = new int[1];
        fx.sim.copy(List.of(GrantCopy.fromGrant(domid, ref, 0, local, 0, 16)), status);
        assertThat(status[0]).isEqualTo(GrantStatus.OKAY.code());
        assertThat(local.get(5)).isEqualTo((byte) 42);
        assertThatThrownBy(() -> fx.sim.map(domid, new int[] {ref}, false))
                .isInstanceOfSatisfying(GrantException.class, e -> assertThat(e.status()).isEqualTo(GrantStatus.GENERAL_ERROR));
        assertThat(fx.sim.pinnedGrants(domid)).isZero();
    }
}
