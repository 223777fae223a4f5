package io.backplane.hypervisor.sim;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventChannels;
import io.backplane.api.hypervisor.GrantMapping;
import io.backplane.api.hypervisor.GrantTables;
import io.backplane.api.xenstore.XenStore;
import io.backplane.guest.sim.Doorbell;
import io.backplane.ring.BackRing;
import io.backplane.ring.RingOverflowException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * dom0's end of the echo ring, on the hypervisor SPI only: waits for the frontend's keys in
 * XenStore, maps its ring grant, binds its event channel and answers every request on one worker
 * thread. Stops when closed, or when the ring turns impossible (its guest was destroyed).
 */
final class EchoBackend implements AutoCloseable {
    private final GrantTables grants;
    private final EventChannels evtchn;
    private final XenStore xs;
    private final int domid;
    private final Thread worker;
    final AtomicLong served = new AtomicLong();
    private volatile boolean running = true;
    private volatile String stopReason;
    private volatile GrantMapping mapping;
    private volatile EventChannel channel;

    EchoBackend(GrantTables grants, EventChannels evtchn, XenStore xs, int domid) {
        this.grants = grants;
        this.evtchn = evtchn;
        this.xs = xs;
        this.domid = domid;
        this.worker = new Thread(this::run, "echo-backend-d" + domid);
        worker.start();
    }

    private void run() {
        try {
            String fe = EchoProtocol.frontendPath(domid);
            while (running && !xs.tryRead(fe + "/state").orElse("").equals("4")) {
                Thread.sleep(5);
            }
            if (!running) {
                return;
            }
            int ref = Integer.parseInt(xs.read(fe + "/ring-ref"));
            int port = Integer.parseInt(xs.read(fe + "/event-channel"));
            mapping = grants.map(domid, new int[] {ref}, true);
            ByteBuffer page = mapping.buffer();
            BackRing ring = BackRing.attach(page, EchoProtocol.LAYOUT);
            Doorbell doorbell = new Doorbell(Thread.currentThread());
            channel = evtchn.bindInterdomain(domid, port, doorbell);
            while (running) {
                int n = ring.unconsumedRequests();
                for (int i = 0; i < n; i++) {
                    int slot = ring.nextRequestSlot();
                    int id = page.getInt(slot + EchoProtocol.ID);       // copy the request out once,
                    int value = page.getInt(slot + EchoProtocol.VALUE); // then answer from the copy
                    int rsp = ring.nextResponseSlot();
                    page.putInt(rsp + EchoProtocol.ID, id);
                    page.putInt(rsp + EchoProtocol.VALUE, EchoProtocol.answer(value));
                }
                served.addAndGet(n);
                if (n > 0 && ring.pushResponsesAndCheckNotify()) {
                    channel.notifyRemote();
                }
                if (n == 0 && !ring.finalCheckForRequests()) {
                    doorbell.await(channel, 100);
                }
            }
            stopReason = "closed";
        } catch (RingOverflowException e) {
            stopReason = "ring impossible: " + e.getMessage();
        } catch (InterruptedException e) {
            stopReason = "interrupted";
        } catch (RuntimeException e) {
            stopReason = e.toString();
        }
    }

    String stopReason() {
        return stopReason;
    }

    boolean isRunning() {
        return worker.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        worker.join(TimeUnit.SECONDS.toMillis(10));
        if (channel != null) {
            channel.close();
        }
        if (mapping != null) {
            mapping.close();
        }
    }
}
