package io.backplane.ring;

import java.io.IOException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The back end of a shared ring (ring.h's {@code <name>_back_ring}): takes requests off, puts
 * responses on. Single-threaded: one thread drives one BackRing. It never trusts the frontend:
 * an impossible req_prod raises {@link RingOverflowException}, and requests are meant to be
 * copied out once ({@link #copyRequest}) and validated on the copy.
 *
 * <p>Typical use: {@link #unconsumedRequests()}; for each, {@link #copyRequest} (or
 * {@link #nextRequestSlot()} and read the fields once); {@link #putResponse} (or
 * {@link #nextResponseSlot()}) per answer; {@link #pushResponsesAndCheckNotify()} and notify the
 * frontend if it says so; before sleeping, {@link #finalCheckForRequests()}.
 *
 * <p>With a {@link RequestMirror} every request is copied into it as it is taken and read from
 * there ({@link #copyRequest} only), so that a successor can serve again what this end took
 * even where its unpublished responses overwrote the slots.
 */
public final class BackRing extends SharedRing {

    /** rsp_prod_pvt: responses written but perhaps not yet published. */
    private int rspProdPvt;
    /** req_cons: requests consumed. */
    private int reqCons;
    /** The rsp_prod this end last published. */
    private int rspProdPublished;
    /** Requests up to here were seen available by {@link #unconsumedRequests()}. */
    private int reqAvailableEnd;
    /** The private copy of the requests taken, or null. */
    private final RequestMirror mirror;
    /** Requests a re-attach found in the mirror (taken, not answered by the last backend), -1 when it had none for this ring. */
    private int replayedFromMirror = -1;

    private BackRing(ByteBuffer shared, RingLayout layout, int index, RequestMirror mirror) {
        super(shared, layout);
        this.rspProdPvt = index;
        this.reqCons = index;
        this.rspProdPublished = index;
        this.reqAvailableEnd = index;
        this.mirror = mirror;
    }

    /** BACK_RING_INIT: attach to a ring the frontend initialised, at index 0. */
    public static BackRing attach(ByteBuffer shared, RingLayout layout) {
        return new BackRing(shared, layout, 0, null);
    }

    /** BACK_RING_INIT with a mirror of the requests taken (null: none), which starts at index 0. */
    public static BackRing attach(ByteBuffer shared, RingLayout layout, RequestMirror mirror) {
        return attach(shared, layout, 0, mirror);
    }

    /** BACK_RING_ATTACH: attach to a live ring whose indexes all stand at {@code index}. */
    public static BackRing attach(ByteBuffer shared, RingLayout layout, int index) {
        return new BackRing(shared, layout, index, null);
    }

    /** BACK_RING_ATTACH with a mirror (null: none), which goes on from {@code index}. */
    public static BackRing attach(ByteBuffer shared, RingLayout layout, int index, RequestMirror mirror) {
        if (mirror != null && mirror.requestConsumer() != index) {
            mirror.restart(index);
        }
        return new BackRing(shared, layout, index, mirror);
    }

    /**
     * The back end of a ring a backend connects to ({@code live} false: BACK_RING_INIT) or adopts
     * ({@code live}: {@link #reattach(ByteBuffer, RingLayout, RequestMirror)}), with a request
     * mirror at {@code mirrorFile} (started afresh, or kept when adopting) when the layout's
     * responses overwrite request slots ({@link RequestMirror#needed}); null: no mirror.
     *
     * @throws java.io.UncheckedIOException when the mirror cannot be mapped
     */
    public static BackRing open(ByteBuffer shared, RingLayout layout, Path mirrorFile, boolean live) {
        RequestMirror mirror = mirrorFile != null && RequestMirror.needed(layout)
                ? RequestMirror.map(mirrorFile, layout, live) : null;
        return live ? reattach(shared, layout, mirror) : attach(shared, layout, mirror);
    }

    /**
     * A standby's rehearsal of an adoption after a kill, on nothing shared: a one-page ring of
     * {@code layout} in private memory where a frontend publishes {@code request}, a backend
     * takes it into a mirror at {@code mirrorFile} and dies unanswered, and an adopter
     * ({@link #open} live) serves it again from the mirror with {@code response}. The same
     * code an adoption runs, loaded and run once before it is needed; the file is removed.
     *
     * @throws IllegalStateException when the request is not answered once from the mirror
     */
    public static void rehearse(RingLayout layout, Path mirrorFile, RingEntry request, RingEntry taken, RingEntry response) {
        ByteBuffer page = ByteBuffer.allocateDirect(layout.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        FrontRing front = FrontRing.init(page, layout);
        front.putRequest(request);
        front.pushRequests();
        try {
            BackRing dying = open(page, layout, mirrorFile, false);
            dying.unconsumedRequests();
            dying.copyRequest(taken);
            BackRing adopter = open(page, layout, mirrorFile, true);
            adopter.unconsumedRequests();
            adopter.copyRequest(taken);
            adopter.putResponse(response);
            adopter.pushResponses();
            if (adopter.replayedFromMirror() != 1 || front.unconsumedResponses() != 1) {
                throw new IllegalStateException("the rehearsal ring was not answered once from its request mirror");
            }
        } finally {
            try {
                Files.deleteIfExists(mirrorFile);
            } catch (IOException e) {
                // the standby's own state directory; removed with the device's directory anyway
            }
        }
    }

    /**
     * Re-attach to a live ring another backend served and left (it stopped, or its process
     * died): every private index is set to the published rsp_prod, so each request the
     * frontend published after the last response it was given is served (again). The shared
     * page is all there is to go by: a request the old backend took but never answered looks
     * the same as one it never took.
     *
     * @throws RingOverflowException when req_prod stands more than a ring ahead of rsp_prod (no
     *         backend could have left it so: the frontend wrote it)
     */
    public static BackRing reattach(ByteBuffer shared, RingLayout layout) {
        return reattach(shared, layout, null);
    }

    /**
     * {@link #reattach(ByteBuffer, RingLayout)} with the mirror the previous backend kept
     * ({@link RequestMirror#map} with keep): the requests from the published rsp_prod up to the
     * mirror's req_cons were taken by it, and their slots may hold its unpublished responses, so
     * they are read from the mirror ({@link #replayedFromMirror()} says how many); those after,
     * from the ring. A mirror whose req_cons is not between rsp_prod and req_prod is not this
     * ring's (or was started afresh): it restarts at rsp_prod and the ring is served as without one.
     *
     * @throws RingOverflowException as {@link #reattach(ByteBuffer, RingLayout)}
     */
    public static BackRing reattach(ByteBuffer shared, RingLayout layout, RequestMirror mirror) {
        BackRing ring = new BackRing(shared, layout, 0, mirror);
        // Reading rsp_prod (our own last publication, from a dead writer) and then req_prod,
        // both acquire loads: the request slots read later are at least as new as req_prod.
        int rspProd = (int) INDEX.getAcquire(ring.shared, ring.rspProdOffset);
        int reqProd = (int) INDEX.getAcquire(ring.shared, ring.reqProdOffset);
        if (RingIndex.producerOverflow(reqProd, rspProd, ring.size)) {
            throw RingOverflowException.requests(reqProd, rspProd, rspProd, ring.size);
        }
        ring.rspProdPvt = rspProd;
        ring.reqCons = rspProd;
        ring.rspProdPublished = rspProd;
        ring.reqAvailableEnd = rspProd;
        if (mirror != null) {
            int taken = mirror.requestConsumer() - rspProd;
            if (mirror.kept() && Integer.compareUnsigned(taken, reqProd - rspProd) <= 0) {
                ring.replayedFromMirror = taken;
            } else {
                mirror.restart(rspProd);
            }
        }
        return ring;
    }

    /**
     * How many requests {@link #reattach(ByteBuffer, RingLayout, RequestMirror)} found taken in the
     * mirror and not answered (served again from the mirror); -1 when there was no usable mirror.
     */
    public int replayedFromMirror() {
        return replayedFromMirror;
    }

    /** The mirror of the requests taken, or null. */
    public RequestMirror mirror() {
        return mirror;
    }

    /** req_cons. */
    public int requestConsumer() {
        return reqCons;
    }

    /** rsp_prod_pvt. */
    public int responseProducerPrivate() {
        return rspProdPvt;
    }

    /** True when every response put on the ring was published (rsp_prod = rsp_prod_pvt). */
    public boolean responsesPublished() {
        return rspProdPublished == rspProdPvt;
    }

    /**
     * RING_HAS_UNCONSUMED_REQUESTS: requests the frontend published that this end may consume
     * now, i.e. the smaller of (req_prod - req_cons) and the slots not taken by consumed requests
     * still waiting for their response. Refuses an impossible req_prod: more than the ring holds
     * (RING_REQUEST_PROD_OVERFLOW), or moved back behind req_cons, which ring.h does not check
     * and which would make a backend consume stale slots.
     *
     * @throws RingOverflowException when the frontend published more requests than the ring holds;
     *         the device should be disabled
     */
    public int unconsumedRequests() {
        // Reading the frontend's req_prod, then xen_rmb(): an acquire load, so the request slots
        // read after it are at least as new as the index.
        int prod = (int) INDEX.getAcquire(shared, reqProdOffset);
        int requests = prod - reqCons;
        if (RingIndex.producerOverflow(prod, rspProdPvt, size)
                || Integer.compareUnsigned(requests, prod - rspProdPvt) > 0) {
            throw RingOverflowException.requests(prod, reqCons, rspProdPvt, size);
        }
        int space = size - (reqCons - rspProdPvt);
        int available = Integer.compareUnsigned(requests, space) < 0 ? requests : space;
        reqAvailableEnd = reqCons + available;
        return available;
    }

    /** RING_REQUEST_CONS_OVERFLOW: would consuming request {@code cons} overrun the responses? */
    public boolean requestConsumerOverflow(int cons) {
        return Integer.compareUnsigned(cons - rspProdPvt, size) >= 0;
    }

    /**
     * Consumes the request at req_cons and returns its byte offset in {@link #buffer()}. Read
     * each field once and validate the copy: the frontend can rewrite the slot at any time.
     *
     * @throws IllegalStateException when no request was seen by {@link #unconsumedRequests()},
     *         or the ring has a mirror (its requests are taken with {@link #copyRequest})
     */
    public int nextRequestSlot() {
        if (mirror != null) {
            throw new IllegalStateException("a ring with a request mirror is consumed with copyRequest");
        }
        return takeSlot();
    }

    private int takeSlot() {
        if (reqCons == reqAvailableEnd) {
            throw new IllegalStateException("no unconsumed request: call unconsumedRequests() first");
        }
        return requestSlotOffset(reqCons++);
    }

    /**
     * Consumes {@code count} requests at once, after the caller read them at
     * {@code requestSlotOffset(requestConsumer() + i)}: the batch form of {@link #nextRequestSlot()}
     * for loops split at {@link #slotsBeforeWrap}.
     *
     * @throws IllegalStateException when fewer requests were seen by {@link #unconsumedRequests()}
     */
    public void consumeRequests(int count) {
        if (mirror != null) {
            throw new IllegalStateException("a ring with a request mirror is consumed with copyRequest");
        }
        if (count < 0 || count > reqAvailableEnd - reqCons) {
            throw new IllegalStateException("cannot consume " + count + " requests, "
                    + (reqAvailableEnd - reqCons) + " seen available");
        }
        reqCons += count;
    }

    /**
     * RING_COPY_REQUEST of the request at req_cons into {@code into}, then consumes it. With a
     * mirror the slot is copied into the mirror first (or, re-attached, found there) and read from it.
     */
    public <E extends RingEntry> E copyRequest(E into) {
        int index = reqCons;
        int slot = takeSlot();
        if (mirror == null) {
            into.readFrom(shared, slot);
        } else {
            into.readFrom(mirror.buffer(), mirror.take(index, shared, slot));
        }
        return into;
    }

    /**
     * RING_COPY_REQUEST of the request {@code ahead} places after req_cons, without consuming it:
     * for a backend that must know several requests before it knows how many it takes (netback's
     * RX reads a frame of unknown size into the buffers of the next requests). Copy them in order
     * (each after the one before it, or after a consumed one), keep the copies, and consume them
     * with {@link #consumeCopiedRequests}: each request is fetched from shared memory once. With a
     * mirror the request is taken into it here, so a successor serves the same bytes.
     *
     * @throws IllegalStateException when the request was not seen by {@link #unconsumedRequests()},
     *         or (with a mirror) the one before it was not copied
     */
    public <E extends RingEntry> E copyRequestAhead(int ahead, E into) {
        int index = reqCons + ahead;
        if (ahead < 0 || index - reqAvailableEnd >= 0) {
            throw new IllegalStateException("request " + ahead + " after req_cons not seen: call unconsumedRequests() first");
        }
        int slot = requestSlotOffset(index);
        if (mirror == null) {
            into.readFrom(shared, slot);
        } else {
            if (!mirror.holds(index) && index != mirror.requestConsumer()) {
                throw new IllegalStateException("requests ahead of req_cons are copied in order");
            }
            into.readFrom(mirror.buffer(), mirror.take(index, shared, slot));
        }
        return into;
    }

    /**
     * Consumes {@code count} requests the caller copied with {@link #copyRequestAhead} (and
     * answers from those copies).
     *
     * @throws IllegalStateException when fewer requests were seen by {@link #unconsumedRequests()}
     */
    public void consumeCopiedRequests(int count) {
        if (count < 0 || count > reqAvailableEnd - reqCons) {
            throw new IllegalStateException("cannot consume " + count + " requests, "
                    + (reqAvailableEnd - reqCons) + " seen available");
        }
        if (mirror != null && count > 0 && !mirror.holds(reqCons + count - 1)) {
            throw new IllegalStateException("consuming requests that were not copied");
        }
        reqCons += count;
    }

    /**
     * A u16 field of the request at req_cons, looked at before it is consumed (a TX packet's size
     * for the credit check): from the mirror when it holds that request, else from the ring slot,
     * which the frontend may still change; the request is validated when {@link #copyRequest} takes it.
     */
    public int peekRequestU16(int fieldOffset) {
        int index = reqCons;
        if (mirror != null && mirror.holds(index)) {
            return Short.toUnsignedInt(mirror.buffer().getShort(mirror.slotOffset(index) + fieldOffset));
        }
        return Short.toUnsignedInt(shared.getShort(requestSlotOffset(index) + fieldOffset));
    }

    /**
     * Claims the slot at rsp_prod_pvt for a response and returns its byte offset. Each response
     * answers a consumed request, so it never overtakes req_cons.
     *
     * @throws IllegalStateException when every consumed request was already answered
     */
    public int nextResponseSlot() {
        if (rspProdPvt == reqCons) {
            throw new IllegalStateException("no consumed request left to answer");
        }
        return responseSlotOffset(rspProdPvt++);
    }

    /**
     * Produces {@code count} responses at once, after the caller wrote them at
     * {@code responseSlotOffset(responseProducerPrivate() + i)}: the batch form of
     * {@link #nextResponseSlot()}.
     *
     * @throws IllegalStateException when fewer consumed requests are unanswered
     */
    public void produceResponses(int count) {
        if (count < 0 || count > reqCons - rspProdPvt) {
            throw new IllegalStateException("cannot produce " + count + " responses, "
                    + (reqCons - rspProdPvt) + " consumed requests unanswered");
        }
        rspProdPvt += count;
    }

    /** Writes {@code response} into the next response slot (see {@link #nextResponseSlot()}). */
    public void putResponse(RingEntry response) {
        response.writeTo(shared, nextResponseSlot());
    }

    /** RING_PUSH_RESPONSES: publish every response written so far, without a notify decision. */
    public void pushResponses() {
        // xen_wmb(); sring->rsp_prod = rsp_prod_pvt: release store, the slots are visible first.
        INDEX.setRelease(shared, rspProdOffset, rspProdPvt);
        rspProdPublished = rspProdPvt;
    }

    /**
     * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publish the responses written so far and say whether
     * the frontend asked to be notified of them (rsp_event within the newly published range).
     */
    public boolean pushResponsesAndCheckNotify() {
        int oldProd = rspProdPublished;
        int newProd = rspProdPvt;
        // xen_wmb(); sring->rsp_prod = __new: release store, the slots are visible first.
        INDEX.setRelease(shared, rspProdOffset, newProd);
        rspProdPublished = newProd;
        // xen_mb(): the frontend sees the new rsp_prod before we read rsp_event (store-load order).
        VarHandle.fullFence();
        // Reading the frontend's rsp_event.
        int event = (int) INDEX.getAcquire(shared, rspEventOffset);
        return RingIndex.needsNotify(oldProd, newProd, event);
    }

    /**
     * RING_FINAL_CHECK_FOR_REQUESTS: before sleeping, ask the frontend to notify at the next
     * request (req_event = req_cons + 1) and look once more, so a request published meanwhile is
     * not slept through.
     *
     * @return true when requests are waiting (do not sleep)
     * @throws RingOverflowException when the frontend published an impossible req_prod
     */
    public boolean finalCheckForRequests() {
        if (unconsumedRequests() != 0) {
            return true;
        }
        // sring->req_event = req_cons + 1: publishing our event index.
        INDEX.setRelease(shared, reqEventOffset, reqCons + 1);
        // xen_mb(): req_event is visible before we read req_prod again (store-load order).
        VarHandle.fullFence();
        return unconsumedRequests() != 0;
    }
}
