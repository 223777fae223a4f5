package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.ShutdownReason;
import io.backplane.guest.sim.Doorbell;
import io.backplane.guest.sim.SimGuest;
import io.backplane.nativeio.NativeIo;
import io.backplane.ring.FrontRing;
import io.backplane.xs.client.SocketXenStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A guest process (its own JVM): attaches to its domain, shares one ring page with dom0 through a
 * grant, publishes ring-ref and event-channel in XenStore like a frontend, then pushes
 * {@code count} echo requests and checks every response. Exit 0 when all were right, 1 on a
 * wrong answer, 3 when its domain was destroyed under it.
 * Arguments: STATE_DIR DOMID COUNT.
 */
public final class EchoFrontendMain {
    private EchoFrontendMain() {
    }

    public static void main(String[] args) throws Exception {
        Path stateDir = Path.of(args[0]);
        int domid = Integer.parseInt(args[1]);
        long count = Long.parseLong(args[2]);
        SimGuest guest = SimGuest.attach(stateDir, domid, new NativeIo(), () -> {
            System.out.println("frontend: domain " + domid + " destroyed");
            System.out.flush();
            Runtime.getRuntime().halt(3);
        });
        SocketXenStore xs = guest.connectXenStore();
        long frame = guest.memory().allocPage();
        ByteBuffer page = guest.memory().page(frame);
        FrontRing ring = FrontRing.init(page, EchoProtocol.LAYOUT);
        int ref = guest.grants().grantAccess(0, frame, false);
        Doorbell doorbell = new Doorbell(Thread.currentThread());
        EventChannel ch = guest.eventChannels().allocUnbound(0, doorbell);
        xs.write(EchoProtocol.FRONTEND + "/ring-ref", Integer.toString(ref));
        xs.write(EchoProtocol.FRONTEND + "/event-channel", Integer.toString(ch.port()));
        xs.write(EchoProtocol.FRONTEND + "/state", "4");

        long sent = 0;
        long checked = 0;
        long waits = 0;
        long started = System.nanoTime();
        while (checked < count) {
            int produced = 0;
            while (sent < count && !ring.isFull()) {
                int slot = ring.nextRequestSlot();
                page.putInt(slot + EchoProtocol.ID, (int) sent);
                page.putInt(slot + EchoProtocol.VALUE, EchoProtocol.requestValue(sent));
                sent++;
                produced++;
            }
            if (produced > 0 && ring.pushRequestsAndCheckNotify()) {
                ch.notifyRemote();
            }
            int available = ring.unconsumedResponses();
            for (int i = 0; i < available; i++) {
                int slot = ring.nextResponseSlot();
                int id = page.getInt(slot + EchoProtocol.ID);
                int value = page.getInt(slot + EchoProtocol.VALUE);
                int expected = EchoProtocol.answer(EchoProtocol.requestValue(checked));
                if (id != (int) checked || value != expected) {
                    System.out.println("frontend: response " + checked + " wrong: id " + id + " value " + value
                            + ", expected id " + (int) checked + " value " + expected);
                    System.exit(1);
                }
                checked++;
            }
            if (available == 0 && (sent == count || ring.isFull()) && !ring.finalCheckForResponses()) {
                doorbell.await(ch, 1000);
                waits++;
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        xs.write(EchoProtocol.FRONTEND + "/checked", Long.toString(checked));
        xs.write(EchoProtocol.FRONTEND + "/state", "6");
        System.out.printf("frontend: %d responses checked in %.2f s (%.0f/s), %d waits%n", checked, seconds, checked / seconds, waits);
        xs.close();
        guest.shutdown(ShutdownReason.POWEROFF);
        guest.close();
    }
}
