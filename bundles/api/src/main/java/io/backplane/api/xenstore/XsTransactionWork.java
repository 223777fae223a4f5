package io.backplane.api.xenstore;

/** The body of a transaction; it may run more than once when commit ends in EAGAIN. */
@FunctionalInterface
public interface XsTransactionWork<T> {
    T run(XsTransaction tx);
}
