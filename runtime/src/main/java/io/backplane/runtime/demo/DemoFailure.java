package io.backplane.runtime.demo;

/** A demo step did not come out as it should; the message says what and where to look, in operator words. */
final class DemoFailure extends Exception {
    private static final long serialVersionUID = 1L;

    DemoFailure(String message) {
        super(message);
    }

    DemoFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
