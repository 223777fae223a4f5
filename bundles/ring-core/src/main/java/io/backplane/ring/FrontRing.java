package io.backplane.ring;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * The front end of a shared ring (ring.h's {@code <name>_front_ring}): puts requests on, takes
 * responses off. Single-threaded: one thread drives one FrontRing. Indexes are free-running u32.
 *
 * <p>Typical use: {@link #nextRequestSlot()} or {@link #putRequest} per request,
 * then {@link #pushRequestsAndCheckNotify()} and notify the backend if it says so; later
 * {@link #unconsumedResponses()}, {@link #copyResponse} for each, and before sleeping
 * {@link #finalCheckForResponses()}.
 */
public final class FrontRing extends SharedRing {

    /** req_prod_pvt: requests written but perhaps not yet published. */
    private int reqProdPvt;
    /** rsp_cons: responses consumed. */
    private int rspCons;
    /** The req_prod this end last published: its own index, so no need to re-read the page. */
    private int reqProdPublished;
    /** The rsp_prod this end last read: responses up to here may be consumed. */
    private int rspProdSeen;

    private FrontRing(ByteBuffer shared, RingLayout layout, int index) {
        super(shared, layout);
        this.reqProdPvt = index;
        this.rspCons = index;
        this.reqProdPublished = index;
        this.rspProdSeen = index;
    }

    /**
     * XEN_FRONT_RING_INIT: initialise the shared ring (SHARED_RING_INIT: producers 0, events 1,
     * private bytes cleared) and attach the front end at index 0.
     */
    public static FrontRing init(ByteBuffer shared, RingLayout layout) {
        FrontRing ring = new FrontRing(shared, layout, 0);
        initShared(ring.shared, layout);
        return ring;
    }

    /** FRONT_RING_ATTACH: take over a live ring whose indexes all stand at {@code index}. */
    public static FrontRing attach(ByteBuffer shared, RingLayout layout, int index) {
        return new FrontRing(shared, layout, index);
    }

    /** req_prod_pvt. */
    public int requestProducerPrivate() {
        return reqProdPvt;
    }

    /** rsp_cons. */
    public int responseConsumer() {
        return rspCons;
    }

    /** RING_FREE_REQUESTS: slots neither holding an outstanding request nor an unconsumed response. */
    public int freeRequests() {
        return size - (reqProdPvt - rspCons);
    }

    /** RING_FULL. */
    public boolean isFull() {
        return freeRequests() == 0;
    }

    /**
     * Claims the slot at req_prod_pvt for a new request and returns its byte offset in
     * {@link #buffer()}; the caller writes the fields there. Not visible to the backend until pushed.
     *
     * @throws IllegalStateException when the ring is full
     */
    public int nextRequestSlot() {
        if (reqProdPvt - rspCons == size) {
            throw new IllegalStateException("ring full: " + size + " requests outstanding");
        }
        return requestSlotOffset(reqProdPvt++);
    }

    /**
     * Produces {@code count} requests at once, after the caller wrote them at
     * {@code requestSlotOffset(requestProducerPrivate() + i)}: the batch form of
     * {@link #nextRequestSlot()} for loops split at {@link #slotsBeforeWrap}.
     *
     * @throws IllegalStateException when fewer slots are free
     */
    public void produceRequests(int count) {
        if (count < 0 || count > freeRequests()) {
            throw new IllegalStateException("cannot produce " + count + " requests, " + freeRequests() + " slots free");
        }
        reqProdPvt += count;
    }

    /** Writes {@code request} into the next request slot (see {@link #nextRequestSlot()}). */
    public void putRequest(RingEntry request) {
        request.writeTo(shared, nextRequestSlot());
    }

    /** RING_PUSH_REQUESTS: publish every request written so far, without a notify decision. */
    public void pushRequests() {
        // xen_wmb(); sring->req_prod = req_prod_pvt: release store, the slots are visible first.
        INDEX.setRelease(shared, reqProdOffset, reqProdPvt);
        reqProdPublished = reqProdPvt;
    }

    /**
     * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publish the requests written so far and say whether
     * the backend asked to be notified of them (req_event within the newly published range).
     */
    public boolean pushRequestsAndCheckNotify() {
        int oldProd = reqProdPublished;
        int newProd = reqProdPvt;
        // xen_wmb(); sring->req_prod = __new: release store, the slots are visible first.
        INDEX.setRelease(shared, reqProdOffset, newProd);
        reqProdPublished = newProd;
        // xen_mb(): the backend sees the new req_prod before we read req_event (store-load order).
        VarHandle.fullFence();
        // Reading the backend's req_event.
        int event = (int) INDEX.getAcquire(shared, reqEventOffset);
        return RingIndex.needsNotify(oldProd, newProd, event);
    }

    /**
     * RING_HAS_UNCONSUMED_RESPONSES: responses the backend published that this end has not yet
     * consumed. Refuses an rsp_prod that claims more responses than the ring can hold
     * (RING_RESPONSE_PROD_OVERFLOW): the backend is misbehaving.
     *
     * @throws RingOverflowException when rsp_prod is impossible
     */
    public int unconsumedResponses() {
        // Reading the backend's rsp_prod, then xen_rmb(): an acquire load, so the response slots
        // read after it are at least as new as the index.
        int prod = (int) INDEX.getAcquire(shared, rspProdOffset);
        if (RingIndex.producerOverflow(prod, rspCons, size)) {
            throw RingOverflowException.responses(prod, rspCons, size);
        }
        rspProdSeen = prod;
        return prod - rspCons;
    }

    /**
     * Consumes the response at rsp_cons and returns its byte offset; the caller reads the fields
     * from there (plain reads, ordered by the acquire in {@link #unconsumedResponses()}).
     *
     * @throws IllegalStateException when no response was seen by {@link #unconsumedResponses()}
     */
    public int nextResponseSlot() {
        if (rspCons == rspProdSeen) {
            throw new IllegalStateException("no unconsumed response: call unconsumedResponses() first");
        }
        return responseSlotOffset(rspCons++);
    }

    /**
     * Consumes {@code count} responses at once, after the caller read them at
     * {@code responseSlotOffset(responseConsumer() + i)}: the batch form of {@link #nextResponseSlot()}.
     *
     * @throws IllegalStateException when fewer responses were seen by {@link #unconsumedResponses()}
     */
    public void consumeResponses(int count) {
        if (count < 0 || count > rspProdSeen - rspCons) {
            throw new IllegalStateException("cannot consume " + count + " responses, "
                    + (rspProdSeen - rspCons) + " seen available");
        }
        rspCons += count;
    }

    /** RING_COPY_RESPONSE of the response at rsp_cons into {@code into}, then consumes it. */
    public <E extends RingEntry> E copyResponse(E into) {
        into.readFrom(shared, nextResponseSlot());
        return into;
    }

    /**
     * RING_FINAL_CHECK_FOR_RESPONSES: before sleeping, ask the backend to notify at the next
     * response (rsp_event = rsp_cons + 1) and look once more, so a response published meanwhile
     * is not slept through.
     *
     * @return true when responses are waiting (do not sleep)
     */
    public boolean finalCheckForResponses() {
        if (unconsumedResponses() != 0) {
            return true;
        }
        // sring->rsp_event = rsp_cons + 1: publishing our event index.
        INDEX.setRelease(shared, rspEventOffset, rspCons + 1);
        // xen_mb(): rsp_event is visible before we read rsp_prod again (store-load order).
        VarHandle.fullFence();
        return unconsumedResponses() != 0;
    }
}
