package io.backplane.xenstore;

import io.backplane.xenstore.store.StoreStats;

import java.util.Optional;

/** What {@code xs:stat} reports about the running XenStore; private to this bundle. */
public interface XenStoreStatus {
    /** "embedded" or "socket". */
    String mode();

    /** The xenstored socket: ours in embedded mode, the one we use in socket mode. */
    String socket();

    /** Store statistics; empty in socket mode, where the store is another process. */
    Optional<StoreStats> stats();

    /** Client sockets open on our daemon (0 in socket mode). */
    int openConnections();
}
