package io.backplane.hypervisor.sim;

import static io.backplane.ring.layout.GrantEntryV1Descriptor.GTF_PERMIT_ACCESS;
import static io.backplane.ring.layout.GrantEntryV1Descriptor.GTF_READING;
import static io.backplane.ring.layout.GrantEntryV1Descriptor.GTF_WRITING;
import static org.assertj.core.api.Assertions.assertThat;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventHandler;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.MappedRegion;
import io.backplane.guest.sim.SimGuest;
import io.backplane.nativeio.MemoryMapping;
import io.backplane.nativeio.NativeIo;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sim handed over to a successor, as a bundle update does through the holder: the guest keeps
 * its sockets and mappings (no reconnect), the domain its id, its event channels stay bound on
 * both ends with the handler dom0 gave, and dom0's grant mapping stays mapped and pinned until
 * closed through the successor.
 */
class SimHandOverTest {
    @TempDir
    Path dir;

    /** Every value in the nested maps and lists of a hand-over. */
    private static List<Object> leaves(Object v) {
        List<Object> out = new java.util.ArrayList<>();
        if (v instanceof Map<?, ?> m) {
            m.values().forEach(x -> out.addAll(leaves(x)));
        } else if (v instanceof java.util.Collection<?> c) {
            c.forEach(x -> out.addAll(leaves(x)));
        } else {
            out.add(v);
        }
        return out;
    }

    @Test
    void aSuccessorTakesTheDomainsPortsConnectionsAndMappingsWithoutTheGuestNoticing() throws Exception {
        NativeIo io = new NativeIo();
        SimHypervisor first = SimHypervisor.start(dir, io, null, -1);
        SimHypervisor next = null;
        int domid = first.create(new DomainConfig("kept", 16, 1)).domid();
        try (SimGuest guest = SimGuest.attach(dir, domid, io)) {
            BlockingQueue<Integer> atGuest = new LinkedBlockingQueue<>();
            BlockingQueue<EventChannel> atDom0 = new LinkedBlockingQueue<>();
            EventChannel g = guest.eventChannels().allocUnbound(0, ch -> atGuest.add(ch.port()));
            EventChannel d = first.bindInterdomain(domid, g.port(), atDom0::add);
            assertThat(atDom0.poll(5, TimeUnit.SECONDS)).as("a newly bound port is pending once").isSameAs(d);
            d.unmask();
            long frame = guest.memory().allocPage();
            int ref = guest.grants().grantAccess(0, frame, false);
            GrantMapping m = first.map(domid, new int[] {ref}, true);
            ByteBuffer dom0View = m.buffer();
            dom0View.putInt(0, 1);

            assertThat(first.quiesce()).as("every guest connection stopped between two messages").isTrue();
            Map<String, Object> handed = first.handOver(System.nanoTime());
            assertThat(leaves(handed)).as("JDK values, the native bundle's mappings and dom0's handlers only: nothing"
                    + " of the outgoing bundle").allMatch(v -> v.getClass().getClassLoader() == null // the JDK's
                    || v instanceof MemoryMapping || v instanceof EventHandler || v.getClass().isArray());
            next = SimHypervisor.restore(dir, io, null, -1, handed);

            assertThat(next.list()).singleElement().satisfies(i -> {
                assertThat(i.domid()).isEqualTo(domid);
                assertThat(i.name()).isEqualTo("kept");
            });
            assertThat(next.guestConnections(domid)).as("the guest's device open and its event stream, kept").isEqualTo(1);
            EventChannel d2 = next.dom0Channel(d.port());
            assertThat(d2).as("dom0's port, bound to the guest's").isNotNull();
            assertThat(d2.remotePort()).isEqualTo(g.port());

            d2.notifyRemote(); // dom0 to guest, on the socket the guest opened before the hand-over
            assertThat(atGuest.poll(5, TimeUnit.SECONDS)).isEqualTo(g.port());
            g.unmask();
            g.notifyRemote(); // guest to dom0: the handler dom0 gave the first sim
            assertThat(atDom0.poll(5, TimeUnit.SECONDS)).isSameAs(d2);
            d2.unmask();

            MappedRegion r = next.dom0Region(m.address());
            assertThat(r).as("dom0's mapping, now the successor's").isInstanceOf(GrantMapping.class);
            assertThat(next.pinnedGrants(domid)).isEqualTo(1);
            guest.memory().page(frame).putInt(0, 2);
            assertThat(dom0View.getInt(0)).as("the same pages, never unmapped").isEqualTo(2);
            assertThat(guest.grants().flags(ref)).isEqualTo(GTF_PERMIT_ACCESS | GTF_READING | GTF_WRITING);
            next.unmap(List.of((GrantMapping) r));
            assertThat(next.pinnedGrants(domid)).isZero();
            assertThat(guest.grants().flags(ref)).isEqualTo(GTF_PERMIT_ACCESS);

            // The guest binds anew through its old connection; a new domain does not reuse the id.
            EventChannel g2 = guest.eventChannels().allocUnbound(0, ch -> atGuest.add(ch.port()));
            EventChannel d3 = next.bindInterdomain(domid, g2.port(), atDom0::add);
            assertThat(atDom0.poll(5, TimeUnit.SECONDS)).isSameAs(d3);
            assertThat(next.create(new DomainConfig("after", 4, 1)).domid()).isGreaterThan(domid);
            d3.close();
            d2.close();
            assertThat(next.dom0PortsInUse()).isZero();
        } finally {
            if (next != null) {
                next.close();
            }
        }
    }
}
