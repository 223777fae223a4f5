package io.backplane.ring;

/**
 * The other end published a producer index that cannot be right: more entries outstanding than
 * the ring has slots (RING_REQUEST_PROD_OVERFLOW on a backend, RING_RESPONSE_PROD_OVERFLOW on a
 * frontend). Linux netback calls this "Impossible number of requests" and disables the vif; a
 * backend catching it should disable the device, never retry.
 */
public final class RingOverflowException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int producer;
    private final int consumer;
    private final int size;

    private RingOverflowException(String message, int producer, int consumer, int size) {
        super(message);
        this.producer = producer;
        this.consumer = consumer;
        this.size = size;
    }

    /** A frontend's req_prod more than {@code size} ahead of the backend's rsp_prod_pvt. */
    static RingOverflowException requests(int reqProd, int reqCons, int rspProdPvt, int size) {
        return new RingOverflowException("Impossible number of requests: req_prod " + Integer.toUnsignedString(reqProd)
                + ", req_cons " + Integer.toUnsignedString(reqCons) + ", rsp_prod_pvt "
                + Integer.toUnsignedString(rspProdPvt) + ", ring size " + size, reqProd, reqCons, size);
    }

    /** A backend's rsp_prod more than {@code size} ahead of the frontend's rsp_cons. */
    static RingOverflowException responses(int rspProd, int rspCons, int size) {
        return new RingOverflowException("Impossible number of responses: rsp_prod " + Integer.toUnsignedString(rspProd)
                + ", rsp_cons " + Integer.toUnsignedString(rspCons) + ", ring size " + size, rspProd, rspCons, size);
    }

    /** The producer index the other end published. */
    public int producer() {
        return producer;
    }

    /** This end's consumer index at the time. */
    public int consumer() {
        return consumer;
    }

    public int size() {
        return size;
    }
}
