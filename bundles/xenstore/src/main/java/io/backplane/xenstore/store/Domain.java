package io.backplane.xenstore.store;

/** An introduced domain: what INTRODUCE told us, and its SET_TARGET. */
final class Domain {
    final int domid;
    long storeGfn;
    int storeEventChannel;
    /** The domain whose rights this one also has (a device model's guest), or -1. */
    int target = -1;

    Domain(int domid, long storeGfn, int storeEventChannel) {
        this.domid = domid;
        this.storeGfn = storeGfn;
        this.storeEventChannel = storeEventChannel;
    }
}
