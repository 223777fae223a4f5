package io.backplane.guest.blkfront;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.guest.sim.SimGuest;
import io.backplane.ring.BlkifRequest;
import io.backplane.ring.BlkifResponse;
import io.backplane.ring.FrontRing;
import io.backplane.ring.RingShape;
import io.backplane.ring.layout.BlkifConstants;
import io.backplane.ring.layout.BlkifIndirectRequestDescriptor;
import io.backplane.ring.layout.BlkifRequestDescriptor;
import io.backplane.ring.layout.BlkifResponseDescriptor;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ObjIntConsumer;

/**
 * One request ring of a blkfront (Linux's {@code blkfront_ring_info}): {@code 2^order}
 * consecutive guest pages granted to the backend, an event channel offered to it, and the
 * shadow table mapping request ids to the requests in flight.
 */
final class BlkfrontRing {
    private final SimGuest guest;
    private final int queue;
    private final long firstFrame;
    private final int[] ringRefs;
    private final EventChannel evtchn;
    private final FrontRing ring;
    private final BlkIo[] shadow;
    private final ArrayDeque<Integer> freeIds = new ArrayDeque<>();
    private final BlkifRequest request = new BlkifRequest();
    private final BlkifResponse response = new BlkifResponse();

    private BlkfrontRing(SimGuest guest, int queue, long firstFrame, int[] ringRefs, EventChannel evtchn, FrontRing ring) {
        this.guest = guest;
        this.queue = queue;
        this.firstFrame = firstFrame;
        this.ringRefs = ringRefs;
        this.evtchn = evtchn;
        this.ring = ring;
        this.shadow = new BlkIo[ring.size()];
        for (int id = 0; id < shadow.length; id++) {
            freeIds.add(id);
        }
    }

    /**
     * setup_blkring: allocates and grants the ring pages (with separate rings, as many again for
     * the response ring, right after), initialises the ring in {@code shape}'s layout, offers a port.
     */
    static BlkfrontRing setup(SimGuest guest, int backendDomid, int queue, int order, RingShape shape, Runnable wake) {
        int pages = 1 << order;
        int granted = shape.grantedPages(pages);
        long frame = guest.memory().allocPages(granted);
        int[] refs = new int[granted];
        for (int i = 0; i < granted; i++) {
            refs[i] = guest.grants().grantAccess(backendDomid, frame + i, false);
        }
        FrontRing ring = FrontRing.init(guest.memory().pages(frame, granted),
                shape.layout(BlkifConstants.PROTOCOL, pages, BlkifRequestDescriptor.LENGTH, BlkifResponseDescriptor.LENGTH));
        EventChannel ch = guest.eventChannels().allocUnbound(backendDomid, c -> wake.run());
        return new BlkfrontRing(guest, queue, frame, refs, ch, ring);
    }

    int queue() {
        return queue;
    }

    int[] ringRefs() {
        return ringRefs.clone();
    }

    int eventChannel() {
        return evtchn.port();
    }

    boolean canSubmit() {
        return !freeIds.isEmpty() && !ring.isFull();
    }

    int inFlight() {
        return shadow.length - freeIds.size();
    }

    /** Puts {@code io} on the ring (not yet pushed); {@code handle} is the vbd's virtual device. */
    void submit(BlkIo io, int handle) {
        int id = freeIds.remove();
        shadow[id] = io;
        request.clear().id(id).handle(handle);
        switch (io.op) {
            case FLUSH -> request.operation(BlkifConstants.BLKIF_OP_FLUSH_DISKCACHE).nrSegments(0).sectorNumber(0);
            case DISCARD -> request.operation(BlkifConstants.BLKIF_OP_DISCARD).sectorNumber(io.sector).discard(0, io.sectors);
            case READ, WRITE -> readWrite(io, handle);
        }
        ring.putRequest(request);
    }

    private void readWrite(BlkIo io, int handle) {
        int op = io.op == BlkIo.Op.READ ? BlkifConstants.BLKIF_OP_READ : BlkifConstants.BLKIF_OP_WRITE;
        int nseg = io.segments();
        request.sectorNumber(io.sector);
        if (nseg <= BlkifConstants.BLKIF_MAX_SEGMENTS_PER_REQUEST) {
            request.operation(op).nrSegments(nseg);
            for (int i = 0; i < nseg; i++) {
                request.segment(i, io.dataRefs[i], 0, lastSect(io, i));
            }
            return;
        }
        // blkif_setup_rw_req_grant's indirect form: the segments go to the granted indirect page.
        ByteBuffer page = io.indirectPage;
        for (int i = 0; i < nseg; i++) {
            int at = BlkifIndirectRequestDescriptor.indirectSegmentOffset(i);
            page.putInt(at + BlkifRequestDescriptor.SEGMENT_GREF_OFFSET, io.dataRefs[i]);
            page.put(at + BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET, (byte) 0);
            page.put(at + BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET, (byte) lastSect(io, i));
        }
        request.operation(BlkifConstants.BLKIF_OP_INDIRECT).indirect(op, nseg, handle).indirectGref(0, io.indirectRef);
    }

    private static int lastSect(BlkIo io, int segment) {
        return Math.min(8, io.sectors - segment * 8) - 1;
    }

    /** Publishes what was submitted and kicks the backend if it asked to be. */
    void push() {
        if (ring.pushRequestsAndCheckNotify()) {
            evtchn.notifyRemote();
        }
    }

    /** Hands each answered request and its status to {@code done}; returns how many. */
    int harvest(ObjIntConsumer<BlkIo> done) {
        int n = 0;
        int available;
        while ((available = ring.unconsumedResponses()) > 0) {
            for (int i = 0; i < available; i++) {
                ring.copyResponse(response);
                long id = response.id;
                if (id < 0 || id >= shadow.length || shadow[(int) id] == null) {
                    throw new IllegalStateException("backend answered unknown request id " + id + " on queue " + queue);
                }
                BlkIo io = shadow[(int) id];
                shadow[(int) id] = null;
                freeIds.add((int) id);
                done.accept(io, response.status);
                n++;
            }
        }
        return n;
    }

    /** Before sleeping: re-arm the port and look once more (RING_FINAL_CHECK_FOR_RESPONSES). */
    boolean finalCheck() {
        if (evtchn.isMasked()) {
            evtchn.unmask();
        }
        return ring.finalCheckForResponses();
    }

    /** The requests still unanswered, in id order (blkif_recover's list to re-issue). */
    List<BlkIo> unanswered() {
        List<BlkIo> out = new ArrayList<>();
        for (BlkIo io : shadow) {
            if (io != null) {
                out.add(io);
            }
        }
        return out;
    }

    /**
     * blkif_free: closes the port and ends the ring grants. Pages the backend still maps stay
     * granted and allocated (Linux defers their release the same way).
     */
    void close() {
        evtchn.close();
        boolean all = true;
        for (int ref : ringRefs) {
            all &= guest.grants().release(ref);
        }
        if (all) {
            guest.memory().freePages(firstFrame, ringRefs.length);
        }
    }
}
