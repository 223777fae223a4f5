package io.backplane.api.sink;

/** A sink could not be opened or failed; the message says which interface and why. */
public class SinkException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SinkException(String message) {
        super(message);
    }

    public SinkException(String message, Throwable cause) {
        super(message, cause);
    }
}
