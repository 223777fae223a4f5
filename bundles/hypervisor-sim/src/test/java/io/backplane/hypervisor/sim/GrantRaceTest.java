package io.backplane.hypervisor.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.guest.sim.GuestGrantTable;
import io.backplane.guest.sim.SimGuest;
import io.backplane.nativeio.NativeIo;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The grant entry is shared: the guest ends and re-grants access while dom0 maps and unmaps.
 * With Xen's compare-and-set protocol on both sides, the guest can never revoke a grant that is
 * mapped, and a map only succeeds on a live grant.
 */
class GrantRaceTest {
    @TempDir
    Path dir;

    @Test
    void theGuestNeverRevokesAGrantWhileDom0MapsIt() throws Exception {
        try (SimFixture fx = new SimFixture(new NativeIo(), dir)) {
            int domid = fx.create("racer", 8).domid();
            try (SimGuest guest = fx.attach(domid)) {
                long frame = guest.memory().allocPage();
                int ref = guest.grants().grantAccess(0, frame, false);
                AtomicBoolean mapped = new AtomicBoolean();
                AtomicBoolean stop = new AtomicBoolean();
                AtomicReference<String> violation = new AtomicReference<>();
                AtomicLong revoked = new AtomicLong();
                Thread guestSide = new Thread(() -> {
                    while (!stop.get()) {
                        if (guest.grants().endAccess(ref)) {
                            if (mapped.get()) {
                                violation.set("grant revoked while dom0 had it mapped");
                            }
                            revoked.incrementAndGet();
                            guest.grants().writeEntry(ref, GuestGrantTable.GTF_PERMIT_ACCESS, 0, frame);
                        }
                    }
                });
                guestSide.start();
                long maps = 0;
                long refused = 0;
                long deadline = System.nanoTime() + 2_000_000_000L;
                while (System.nanoTime() < deadline && violation.get() == null) {
                    try (GrantMapping m = fx.sim.map(domid, new int[] {ref}, true)) {
                        mapped.set(true);
                        m.buffer().putInt(0, (int) maps);
                        maps++;
                        mapped.set(false);
                    } catch (GrantException e) {
                        assertThat(e.status()).isEqualTo(GrantStatus.GENERAL_ERROR); // revoked at that instant
                        refused++;
                    }
                }
                stop.set(true);
                guestSide.join();
                assertThat(violation.get()).isNull();
                assertThat(maps).isPositive();
                assertThat(revoked.get()).isPositive();
                int flags = guest.grants().flags(ref);
                assertThat(flags & (GuestGrantTable.GTF_READING | GuestGrantTable.GTF_WRITING)).isZero();
                System.out.printf("grant race: %d maps, %d refused, %d revocations%n", maps, refused, revoked.get());
            }
        }
    }
}
