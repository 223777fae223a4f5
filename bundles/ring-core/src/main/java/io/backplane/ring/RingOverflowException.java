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

    RingOverflowException(String what, int producer, int consumer, int base, int size) {
        super("Impossible number of " + what + ": " + what.substring(0, 3) + "_prod " + Integer.toUnsignedString(producer)
                + ", " + (what.startsWith("req") ? "req_cons " : "rsp_cons ") + Integer.toUnsignedString(consumer)
                + ", " + (what.startsWith("req") ? "rsp_prod_pvt " : "rsp_cons ") + Integer.toUnsignedString(base)
                + ", ring size " + size);
        this.producer = producer;
        this.consumer = consumer;
        this.size = size;
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
