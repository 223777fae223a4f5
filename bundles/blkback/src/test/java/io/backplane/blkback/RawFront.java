package io.backplane.blkback;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.guest.sim.SimGuest;
import io.backplane.ring.BlkifRequest;
import io.backplane.ring.BlkifResponse;
import io.backplane.ring.FrontRing;
import io.backplane.ring.LegacyRingLayout;
import io.backplane.ring.layout.SharedRingDescriptor;
import io.backplane.xs.client.SocketXenStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A hand-driven blkif frontend in the test JVM, attached to its domain like any guest (its own
 * memory, grant table, event channels and unprivileged xenstore.sock): it writes whatever keys a
 * test wants and puts any request on the ring, well-formed or not.
 */
final class RawFront implements AutoCloseable {
    private static final VarHandle INDEX = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    final SimGuest guest;
    final SocketXenStore xs;
    final String dir;
    final FrontRing ring;
    final ByteBuffer ringBuffer;
    final int[] ringRefs;
    final EventChannel evtchn;
    private final boolean owner;
    private final Semaphore events = new Semaphore(0);
    private final BlkifResponse response = new BlkifResponse();

    RawFront(Path stateDir, int domid, int devid, int order) throws IOException {
        this(SimGuest.attach(stateDir, domid, new io.backplane.nativeio.NativeIo()), devid, order, true);
    }

    /**
     * Another frontend of a guest already attached: one SimGuest per domain, since each keeps
     * its own page and grant reference allocators (as one guest kernel has).
     */
    RawFront(SimGuest guest, int devid, int order, boolean owner) throws IOException {
        this.guest = guest;
        this.owner = owner;
        this.xs = new SocketXenStore(guest.xenstoreSocket());
        int domid = guest.domid();
        this.dir = "/local/domain/" + domid + "/device/vbd/" + devid;
        int pages = 1 << order;
        long frame = guest.memory().allocPages(pages);
        ringRefs = new int[pages];
        for (int i = 0; i < pages; i++) {
            ringRefs[i] = guest.grants().grantAccess(0, frame + i, false);
        }
        ringBuffer = guest.memory().pages(frame, pages);
        ring = FrontRing.init(ringBuffer, LegacyRingLayout.ofPages(pages, SharedRingDescriptor.BLKIF_ENTRY_LENGTH));
        evtchn = guest.eventChannels().allocUnbound(0, ch -> events.release());
    }

    /** Writes the connect keys as a one-queue blkfront (plus {@code extra}), then Initialised. */
    void connect(Map<String, String> extra, boolean multiPage) {
        xs.transaction(tx -> {
            if (multiPage) {
                tx.write(dir + "/ring-page-order", Integer.toString(Integer.numberOfTrailingZeros(ringRefs.length)));
                for (int i = 0; i < ringRefs.length; i++) {
                    tx.write(dir + "/ring-ref" + i, Integer.toString(ringRefs[i]));
                }
            } else {
                tx.write(dir + "/ring-ref", Integer.toString(ringRefs[0]));
            }
            tx.write(dir + "/event-channel", Integer.toString(evtchn.port()));
            tx.write(dir + "/protocol", "x86_64-abi");
            extra.forEach((k, v) -> tx.write(dir + "/" + k, v));
            return null;
        });
        xs.write(dir + "/state", "3");
    }

    /** A zeroed page granted to dom0; returns {frame, gref}. */
    long[] grantedPage(boolean readonly) {
        long frame = guest.memory().allocPage();
        return new long[] {frame, guest.grants().grantAccess(0, frame, readonly)};
    }

    ByteBuffer page(long frame) {
        return guest.memory().page(frame);
    }

    void send(BlkifRequest request) {
        ring.putRequest(request);
        publish();
    }

    /** Publishes every request put on the ring since the last push, with one req_prod (and one event if asked for). */
    void publish() {
        if (ring.pushRequestsAndCheckNotify()) {
            evtchn.notifyRemote();
        }
    }

    /** Publishes a req_prod {@code ahead} slots past what the backend has answered: a lie. */
    void publishBogusRequestProducer(int ahead) {
        INDEX.setRelease(ringBuffer, SharedRingDescriptor.REQ_PROD_OFFSET, ring.responseConsumer() + ahead);
        evtchn.notifyRemote();
    }

    /** The next response, waiting up to 10 s. */
    BlkifResponse next() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ring.unconsumedResponses() == 0) {
            if (evtchn.isMasked()) {
                evtchn.unmask();
            }
            if (ring.finalCheckForResponses()) {
                break;
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("no response from the backend within 10 s");
            }
            events.tryAcquire(100, TimeUnit.MILLISECONDS);
        }
        ring.copyResponse(response);
        BlkifResponse copy = new BlkifResponse();
        copy.id = response.id;
        copy.operation = response.operation;
        copy.status = response.status;
        return copy;
    }

    /** Sends and waits for the answer. */
    BlkifResponse call(BlkifRequest request) throws InterruptedException {
        send(request);
        return next();
    }

    @Override
    public void close() {
        xs.close();
        if (owner) {
            guest.close();
        }
    }
}
