package io.backplane.xenstore.store;

/**
 * Nodes by absolute path, as seen either by the committed tree or by a transaction. Operations
 * are written once against this view. Keeps the per-domain owned-node count in step.
 */
abstract class NodeView {

    /** The node at {@code path}, or null. */
    abstract Node lookup(String path);

    /** Replaces (node != null) or deletes (null) the node at {@code path}, without accounting. */
    abstract void store(String path, Node node);

    abstract void adjustOwned(int domid, int delta);

    abstract int owned(int domid);

    /** A fresh generation for a node changed through this view. */
    abstract long nextGeneration();

    final void put(String path, Node node) {
        Node old = lookup(path);
        if (old != null) {
            adjustOwned(old.owner(), -1);
        }
        adjustOwned(node.owner(), 1);
        store(path, node.withGeneration(nextGeneration()));
    }

    final void delete(String path) {
        Node old = lookup(path);
        if (old != null) {
            adjustOwned(old.owner(), -1);
            store(path, null);
        }
    }
}
