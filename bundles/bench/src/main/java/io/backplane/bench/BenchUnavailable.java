package io.backplane.bench;

/** A benchmark cannot run on this machine (a tool or package is missing); the message says which and how to install it. */
final class BenchUnavailable extends Exception {
    private static final long serialVersionUID = 1L;

    BenchUnavailable(String message) {
        super(message);
    }
}
