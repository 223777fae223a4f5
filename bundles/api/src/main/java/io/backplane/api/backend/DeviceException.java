package io.backplane.api.backend;

/** A device cannot go on; the message says why in operator words (it is written to XenStore). */
public class DeviceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DeviceException(String message) {
        super(message);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }
}
