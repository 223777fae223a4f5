package io.backplane.api.xenstore;

/**
 * A connection to XenStore, as dom0 (privileged) unless the implementation says otherwise.
 * Registered as an OSGi service by the xenstore bundle; every other bundle uses only this.
 */
public interface XenStore extends XsOps {

    /** How many times {@link #transaction} re-runs its work after EAGAIN before giving up. */
    int TRANSACTION_RETRIES = 64;

    /** TRANSACTION_START. */
    XsTransaction begin();

    /**
     * Runs {@code work} in a transaction and commits it, re-running the whole work on EAGAIN
     * (the xenstore-rm / libxl retry loop). Any other failure aborts and propagates.
     */
    default <T> T transaction(XsTransactionWork<T> work) {
        XsException last = null;
        for (int attempt = 0; attempt < TRANSACTION_RETRIES; attempt++) {
            XsTransaction tx = begin();
            try {
                T result = work.run(tx);
                tx.commit();
                return result;
            } catch (XsException e) {
                tx.abort();
                if (e.error() != XsError.EAGAIN) {
                    throw e;
                }
                last = e;
            } catch (RuntimeException | Error e) {
                tx.abort();
                throw e;
            }
        }
        throw last;
    }

    /**
     * WATCH: registers {@code listener} for {@code path} and its descendants. The store sends one
     * event for the path at once; EEXIST when this connection already watches (path, token).
     */
    XsWatch watch(String path, String token, XsWatchListener listener);

    /** GET_DOMAIN_PATH: {@code /local/domain/<domid>}. */
    String getDomainPath(int domid);

    /** INTRODUCE (privileged): the domain's store ring page frame and event channel port. */
    void introduceDomain(int domid, long storeGfn, int storeEventChannel);

    /** RELEASE (privileged): forgets the domain and fires {@code @releaseDomain}. */
    void releaseDomain(int domid);

    /** IS_DOMAIN_INTRODUCED. */
    boolean isDomainIntroduced(int domid);

    /** SET_TARGET (privileged): lets {@code domid} act with {@code targetDomid}'s rights (device models). */
    void setTarget(int domid, int targetDomid);
}
