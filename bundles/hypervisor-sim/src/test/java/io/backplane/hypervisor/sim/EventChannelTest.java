package io.backplane.hypervisor.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.HypervisorException;
import io.backplane.guest.sim.SimGuest;
import io.backplane.nativeio.NativeIo;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Event channels between dom0 and guests over the guests' evtchn.sock, with Xen's binding rules. */
class EventChannelTest {
    @TempDir
    static Path dir;
    static SimFixture fx;
    static SimGuest guest;
    static SimGuest other;
    static int domid;
    static int otherDomid;

    @BeforeAll
    static void start() throws Exception {
        fx = new SimFixture(new NativeIo(), dir);
        domid = fx.create("evtchn-a", 16).domid();
        otherDomid = fx.create("evtchn-b", 16).domid();
        guest = fx.attach(domid);
        other = fx.attach(otherDomid);
    }

    @AfterAll
    static void stop() {
        guest.close();
        other.close();
        fx.close();
    }

    @Test
    void eventsFlowBothWaysAndMaskingHoldsThemPending() throws Exception {
        BlockingQueue<Integer> atGuest = new LinkedBlockingQueue<>();
        BlockingQueue<Integer> atDom0 = new LinkedBlockingQueue<>();
        EventChannel g = guest.eventChannels().allocUnbound(0, ch -> atGuest.add(ch.port()));
        EventChannel d = fx.sim.bindInterdomain(domid, g.port(), ch -> atDom0.add(ch.port()));
        assertThat(d.remotePort()).isEqualTo(g.port());
        assertThat(atDom0.poll(5, TimeUnit.SECONDS)).as("a newly bound port is pending once").isEqualTo(d.port());
        d.unmask();

        d.notifyRemote();
        assertThat(atGuest.poll(5, TimeUnit.SECONDS)).isEqualTo(g.port());
        d.notifyRemote();                      // guest has not unmasked: held pending, not delivered
        d.notifyRemote();
        assertThat(atGuest.poll(300, TimeUnit.MILLISECONDS)).isNull();
        g.unmask();                            // re-arm: the pending event comes at once, only once
        assertThat(atGuest.poll(5, TimeUnit.SECONDS)).isEqualTo(g.port());
        assertThat(atGuest.poll(300, TimeUnit.MILLISECONDS)).isNull();
        g.unmask();

        g.notifyRemote();
        assertThat(atDom0.poll(5, TimeUnit.SECONDS)).isEqualTo(d.port());
        assertThat(d.isMasked()).isTrue();
        g.notifyRemote();
        waitFor(d::isPending);
        d.unmask();
        assertThat(atDom0.poll(5, TimeUnit.SECONDS)).isEqualTo(d.port());
        d.unmask();

        g.close();
        d.notifyRemote();                      // remote end closed: dom0's port is unbound, send is a no-op
        assertThat(d.remotePort()).isZero();
        d.close();
        assertThatThrownBy(d::notifyRemote).isInstanceOf(HypervisorException.class);
    }

    @Test
    void theGuestSeesTheHypervisorsPendingAndMaskBitsEvenFromItsHandler() throws Exception {
        BlockingQueue<Boolean> pendingSeenInHandler = new LinkedBlockingQueue<>();
        EventChannel g = guest.eventChannels().allocUnbound(0, ch -> pendingSeenInHandler.add(ch.isPending()));
        EventChannel d = fx.sim.bindInterdomain(domid, g.port(), ch -> { });
        assertThat(g.isMasked()).isFalse();
        assertThat(g.isPending()).isFalse();

        d.notifyRemote();
        assertThat(pendingSeenInHandler.poll(5, TimeUnit.SECONDS)).as("asked on the reader thread, answered").isFalse();
        assertThat(g.isMasked()).isTrue();
        d.notifyRemote();                      // while masked: pending in the hypervisor, no EVENT
        waitFor(g::isPending);
        assertThat(pendingSeenInHandler.poll(300, TimeUnit.MILLISECONDS)).isNull();
        g.unmask();                            // the pending event is delivered and the bit cleared
        assertThat(pendingSeenInHandler.poll(5, TimeUnit.SECONDS)).isFalse();
        assertThat(g.isPending()).isFalse();
        g.unmask();
        d.close();
        g.close();
        assertThat(g.isPending()).as("a closed port has nothing pending").isFalse();
    }

    /**
     * A handler's request (on the connection's reader thread) while another thread waits for the
     * reply to its own: the reader must keep reading for that thread instead of queueing behind it.
     */
    @Test
    void handlersAndOtherThreadsMakeRequestsAtTheSameTimeWithoutStalling() throws Exception {
        BlockingQueue<Integer> handled = new LinkedBlockingQueue<>();
        EventChannel other = guest.eventChannels().allocUnbound(0, ch -> { });
        EventChannel g = guest.eventChannels().allocUnbound(0, ch -> {
            ch.isPending();
            handled.add(ch.port());
            ch.unmask();
        });
        EventChannel d = fx.sim.bindInterdomain(domid, g.port(), ch -> { });
        java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread asker = new Thread(() -> {
            try {
                while (!stop.get()) {
                    other.isPending();
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        asker.start();
        long start = System.nanoTime();
        try {
            for (int i = 0; i < 200; i++) {
                d.notifyRemote();
                assertThat(handled.poll(5, TimeUnit.SECONDS)).as("event " + i + " handled").isEqualTo(g.port());
            }
        } finally {
            stop.set(true);
            asker.join(15_000);
        }
        assertThat(failed.get()).isNull();
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).as("no 10 s reply timeout hit").isLessThan(10);
        d.close();
        g.close();
        other.close();
    }

    @Test
    void onlyTheDomainAPortIsOfferedToMayBindIt() {
        int before = fx.sim.dom0PortsInUse();
        EventChannel offered = fx.sim.allocUnbound(domid, ch -> { });
        assertThatThrownBy(() -> other.eventChannels().bindInterdomain(0, offered.port(), ch -> { }))
                .isInstanceOfSatisfying(HypervisorException.class, e -> assertThat(e.errno()).isEqualTo("EINVAL"));
        assertThatThrownBy(() -> guest.eventChannels().bindInterdomain(0, 4000, ch -> { }))
                .isInstanceOfSatisfying(HypervisorException.class, e -> assertThat(e.errno()).isEqualTo("EINVAL"));
        assertThatThrownBy(() -> guest.eventChannels().allocUnbound(4242, ch -> { }))
                .isInstanceOfSatisfying(HypervisorException.class, e -> assertThat(e.errno()).isEqualTo("ESRCH"));
        EventChannel bound = guest.eventChannels().bindInterdomain(0, offered.port(), ch -> { });
        assertThat(offered.remotePort()).isEqualTo(bound.port());
        assertThatThrownBy(() -> guest.eventChannels().bindInterdomain(0, offered.port(), ch -> { }))
                .as("already bound").isInstanceOf(HypervisorException.class);
        bound.close();
        offered.close();
        assertThat(fx.sim.dom0PortsInUse()).isEqualTo(before);
    }

    @Test
    void guestsCanBindEachOther() throws Exception {
        BlockingQueue<Integer> atOther = new LinkedBlockingQueue<>();
        EventChannel a = guest.eventChannels().allocUnbound(otherDomid, ch -> { });
        EventChannel b = other.eventChannels().bindInterdomain(domid, a.port(), ch -> atOther.add(ch.port()));
        assertThat(atOther.poll(5, TimeUnit.SECONDS)).isEqualTo(b.port());
        b.unmask();
        a.notifyRemote();
        assertThat(atOther.poll(5, TimeUnit.SECONDS)).isEqualTo(b.port());
        a.close();
        b.close();
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition within 5 s").isLessThan(deadline);
            Thread.sleep(5);
        }
    }
}
