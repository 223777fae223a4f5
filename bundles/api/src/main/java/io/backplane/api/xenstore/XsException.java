package io.backplane.api.xenstore;

/** A XenStore operation failed with an xs_wire error. */
public class XsException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final XsError error;

    public XsException(XsError error, String message) {
        super(error + (message == null || message.isEmpty() ? "" : ": " + message));
        this.error = error;
    }

    public XsException(XsError error) {
        this(error, null);
    }

    public XsError error() {
        return error;
    }
}
