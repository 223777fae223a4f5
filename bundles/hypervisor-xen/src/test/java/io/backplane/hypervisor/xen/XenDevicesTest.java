package io.backplane.hypervisor.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.GrantCopy;
import io.backplane.api.hypervisor.GrantException;
import io.backplane.api.hypervisor.GrantStatus;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.api.log.OperatorLog;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The devices of a real dom0. Skipped (with the reason printed) where /dev/xen is missing, as on
 * the build machines; itests/xen-rig/run.sh runs the same calls inside a Xen dom0 under QEMU.
 */
class XenDevicesTest {
    private XenDevices devices;
    private final List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeEach
    void open() {
        List<String> missing = XenDevices.missingDevices();
        if (!missing.isEmpty()) {
            String reason = "not a Xen dom0: " + String.join(", ", missing) + " missing";
            System.out.println("XenDevicesTest skipped: " + reason);
            Assumptions.assumeTrue(false, reason);
        }
        devices = XenDevices.open(new NativeIo(), OperatorLog.lines(warnings::add));
    }

    @AfterEach
    void close() {
        if (devices != null) {
            devices.close();
        }
    }

    @Test
    void aLoopbackChannelInDom0DeliversMasksAndUnmasks() throws Exception {
        LinkedBlockingQueue<Integer> a = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Integer> b = new LinkedBlockingQueue<>();
        try (EventChannel unbound = devices.eventChannels().allocUnbound(0, ch -> a.add(ch.port()));
             EventChannel bound = devices.eventChannels().bindInterdomain(0, unbound.port(), ch -> b.add(ch.port()))) {
            // A newly bound port is marked pending once by Linux: drain that first.
            b.poll(500, TimeUnit.MILLISECONDS);
            bound.unmask();
            a.clear();
            b.clear();
            bound.notifyRemote();
            assertThat(a.poll(5, TimeUnit.SECONDS)).isEqualTo(unbound.port());
            assertThat(unbound.isMasked()).isTrue();
            unbound.unmask();
            assertThat(unbound.isMasked()).isFalse();
            unbound.notifyRemote();
            assertThat(b.poll(5, TimeUnit.SECONDS)).isEqualTo(bound.port());
            bound.close();
            assertThatThrownBy(bound::notifyRemote).isInstanceOf(HypervisorException.class).hasMessageContaining("EINVAL");
        }
    }

    @Test
    void bindingToANonexistentDomainFailsWithXensErrno() {
        assertThatThrownBy(() -> devices.eventChannels().allocUnbound(0x7FEF, ch -> { }))
                .isInstanceOf(HypervisorException.class);
    }

    @Test
    void grantsOfANonexistentDomainAreRefusedWithGntstCodes() {
        int[] status = new int[1];
        devices.grantTables().copy(List.of(GrantCopy.fromGrant(0x7FEF, 1, 0, ByteBuffer.allocateDirect(8), 0, 8)), status);
        assertThat(status[0]).isEqualTo(GrantStatus.BAD_DOMAIN.code());
        assertThatThrownBy(() -> devices.grantTables().map(0x7FEF, new int[] {1, 2}, false))
                .isInstanceOfSatisfying(GrantException.class, e -> {
                    assertThat(e.status()).isEqualTo(GrantStatus.BAD_DOMAIN);
                    assertThat(e.ref()).isEqualTo(1);
                });
    }
}
