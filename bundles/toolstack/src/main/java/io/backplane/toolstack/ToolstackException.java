package io.backplane.toolstack;

/** An xl action that could not be done; the message is the one line the operator sees. */
public class ToolstackException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ToolstackException(String message) {
        super(message);
    }

    public ToolstackException(String message, Throwable cause) {
        super(message, cause);
    }
}
