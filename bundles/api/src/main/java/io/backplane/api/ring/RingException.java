package io.backplane.api.ring;

/** A ring could not be opened: refused grant, inconsistent request, or no strategy fits. */
public class RingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RingException(String message) {
        super(message);
    }

    public RingException(String message, Throwable cause) {
        super(message, cause);
    }
}
