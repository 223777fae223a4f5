package io.backplane.api.xenstore;

/**
 * A XenStore transaction: reads see a snapshot, writes become visible (and fire watches) at
 * commit. Commit fails with EAGAIN when a node read inside the transaction changed meanwhile.
 * Closing an uncommitted transaction aborts it.
 */
public interface XsTransaction extends XsOps, AutoCloseable {

    /** TRANSACTION_END "T"; throws {@link XsException} with EAGAIN on conflict. */
    void commit();

    /** TRANSACTION_END "F"; a no-op once committed or aborted. */
    void abort();

    @Override
    default void close() {
        abort();
    }
}
