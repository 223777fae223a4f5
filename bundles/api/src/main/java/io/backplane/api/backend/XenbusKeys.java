package io.backplane.api.backend;

/**
 * The key names of a xenbus device's frontend and backend directories that every device type
 * uses: the xenbus handshake (docs/misc/xenstore-paths.pandoc in Xen's tree, written by libxl's
 * device code and the drivers; the values of {@link #STATE} are xenbus.h's XenbusState), and the
 * ring keys that /usr/include/xen/io/blkif.h and netif.h both define. Keys of one device type are
 * in {@link NetifKeys} and {@link BlkifKeys}. Backplane's code names a key through these, never
 * as a string of its own (arch-test's XenStoreKeyLiteralsTest holds that).
 */
public interface XenbusKeys {

    /** Both directories: the end's state as XenbusState's number (xenbus.h). */
    String STATE = "state";
    /** Backend: the frontend directory's path (xenstore-paths: backend/TYPE/DOMID/DEVID/frontend). */
    String FRONTEND = "frontend";
    /** Backend: the frontend's domid. */
    String FRONTEND_ID = "frontend-id";
    /** Frontend: the backend directory's path. */
    String BACKEND = "backend";
    /** Frontend: the backend's domid. */
    String BACKEND_ID = "backend-id";
    /** Backend: 1 while the toolstack wants the device, 0 to take it away (libxl). */
    String ONLINE = "online";
    /** Backend: {@code connected} once the hotplug script has set the device up (libxl, Linux's xenbus). */
    String HOTPLUG_STATUS = "hotplug-status";
    /** Backend: why the backend failed the device, in words (Linux's xenbus_dev_fatal). */
    String ERROR = "error";
    /** Both directories: the device number as the toolstack names it (libxl). */
    String HANDLE = "handle";

    /** Frontend: the grant reference of a one-page ring; {@code ring-ref0..N-1} for 2^order pages (blkif.h). */
    String RING_REF = "ring-ref";
    /** Frontend: the event channel port of the ring(s) (blkif.h, netif.h). */
    String EVENT_CHANNEL = "event-channel";
    /** Frontend: log2 of the pages of each ring it granted (blkif.h; netif rings too in Backplane, docs/netback.md). */
    String RING_PAGE_ORDER = "ring-page-order";
    /** Backend: the largest {@link #RING_PAGE_ORDER} it accepts (blkif.h; netif too in Backplane). */
    String MAX_RING_PAGE_ORDER = "max-ring-page-order";
    /** Backend: the most queues it serves (blkif.h, netif.h). */
    String MULTI_QUEUE_MAX_QUEUES = "multi-queue-max-queues";
    /** Frontend: the queues it uses; each queue's keys then live under {@link #queueDir} (blkif.h, netif.h). */
    String MULTI_QUEUE_NUM_QUEUES = "multi-queue-num-queues";
    /**
     * Both: grants are reused, so the backend may keep them mapped (blkif.h; on a vif as proposed
     * for netback/netfront on xen-devel in 2012-2013, not in netif.h).
     */
    String FEATURE_PERSISTENT = "feature-persistent";
    /**
     * Frontend: asks the backend to batch its unmaps, {@code "<count>,<max delay ms>"}, on a vbd or a
     * vif alike (Backplane's, docs/backends.md "Frontend-requested lazy unmap"; not in blkif.h or netif.h).
     */
    String REQUEST_UNMAP_BATCH = "request-unmap-batch";

    /** The directory, relative to the frontend's, of queue {@code q}'s ring keys: {@code queue-q} (blkif.h, netif.h). */
    static String queueDir(int q) {
        return "queue-" + q;
    }
}
