package io.backplane.xenstore.store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A transaction as C xenstored (4.9+) runs it: changed nodes live in an overlay, every node the
 * transaction touches is kept as it was at first access (C copies it into the transaction's
 * database), so later reads, listings and permissions inside the transaction see that version,
 * not changes made outside since. Commit fails with EAGAIN if any of those nodes moved. Watch
 * events are kept and fired on commit only.
 *
 * <p>A node that was absent at first access stays absent here too, where C reads it from the
 * live store again: a transaction never mixes a listing without a child with that child's value.
 * The commit fails with EAGAIN either way.
 */
final class Transaction extends NodeView {
    /** Generation noted for a node that did not exist when first accessed. */
    private static final long ABSENT = -1;

    final int id;
    private final NodeView base;
    private final Map<String, Node> overlay = new LinkedHashMap<>();
    /** The node as first seen (null: absent then), by path; its generation is what commit checks. */
    private final Map<String, Node> seen = new HashMap<>();
    private final Map<Integer, Integer> ownedDelta = new HashMap<>();
    final List<Store.Change> changes = new ArrayList<>();
    /** Open across a live update: what it saw is gone, so its commit can only fail. */
    private final boolean doomed;

    Transaction(int id, NodeView base) {
        this(id, base, false);
    }

    Transaction(int id, NodeView base, boolean doomed) {
        this.id = id;
        this.base = base;
        this.doomed = doomed;
    }

    @Override
    Node lookup(String path) {
        if (overlay.containsKey(path)) {
            return overlay.get(path);
        }
        if (seen.containsKey(path)) {
            return seen.get(path);
        }
        Node n = base.lookup(path);
        seen.put(path, n);
        return n;
    }

    @Override
    void store(String path, Node node) {
        lookup(path); // note the generation we are about to overwrite
        overlay.put(path, node);
    }

    @Override
    void adjustOwned(int domid, int delta) {
        ownedDelta.merge(domid, delta, Integer::sum);
    }

    @Override
    int owned(int domid) {
        return base.owned(domid) + ownedDelta.getOrDefault(domid, 0);
    }

    @Override
    long nextGeneration() {
        // Provisional, seen only inside this transaction; commit assigns the final ones.
        return base.nextGeneration();
    }

    /** True when a node this transaction touched changed in {@code tree} since. */
    boolean conflictsWith(NodeView tree) {
        if (doomed) {
            return true;
        }
        for (Map.Entry<String, Node> e : seen.entrySet()) {
            if (generation(tree.lookup(e.getKey())) != generation(e.getValue())) {
                return true;
            }
        }
        return false;
    }

    private static long generation(Node n) {
        return n == null ? ABSENT : n.generation;
    }

    /** Writes the overlay into {@code tree}. */
    void applyTo(NodeView tree) {
        for (Map.Entry<String, Node> e : overlay.entrySet()) {
            if (e.getValue() == null) {
                tree.delete(e.getKey());
            } else {
                tree.put(e.getKey(), e.getValue());
            }
        }
    }
}
