package io.backplane.xenstore.store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A transaction as C xenstored (4.9+) runs it: changed nodes live in an overlay, every node the
 * transaction touches has its generation noted at first access, and commit fails with EAGAIN
 * if any of those generations moved. Watch events are kept and fired on commit only.
 */
final class Transaction extends NodeView {
    /** Generation noted for a node that did not exist when first accessed. */
    static final long ABSENT = -1;

    final int id;
    private final NodeView base;
    private final Map<String, Node> overlay = new LinkedHashMap<>();
    private final Map<String, Long> accessed = new HashMap<>();
    private final Map<Integer, Integer> ownedDelta = new HashMap<>();
    final List<Store.Change> changes = new ArrayList<>();

    Transaction(int id, NodeView base) {
        this.id = id;
        this.base = base;
    }

    @Override
    Node lookup(String path) {
        if (overlay.containsKey(path)) {
            return overlay.get(path);
        }
        Node n = base.lookup(path);
        accessed.putIfAbsent(path, n == null ? ABSENT : n.generation);
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
        for (Map.Entry<String, Long> e : accessed.entrySet()) {
            Node now = tree.lookup(e.getKey());
            long gen = now == null ? ABSENT : now.generation;
            if (gen != e.getValue()) {
                return true;
            }
        }
        return false;
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
