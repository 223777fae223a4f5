package io.backplane.xenstore.store;

import io.backplane.api.xenstore.XsPerm;

import java.util.ArrayList;
import java.util.List;

/**
 * One node, immutable: a change makes a new Node, so a transaction can hold the version it read
 * while the tree moves on. Children keep creation order, as C xenstored's child list does.
 */
final class Node {
    /** Size of C xenstored's {@code struct xs_tdb_record_hdr} (u64 generation + 3 u32, padded). */
    private static final int TDB_RECORD_HEADER = 24;
    /** Size of one {@code struct xs_permissions} in that record. */
    private static final int TDB_PERM_SIZE = 8;

    final byte[] value;
    final List<XsPerm> perms;
    final List<String> children;
    final long generation;

    Node(byte[] value, List<XsPerm> perms, List<String> children, long generation) {
        this.value = value;
        this.perms = List.copyOf(perms);
        this.children = children;
        this.generation = generation;
    }

    int owner() {
        return perms.get(0).domid();
    }

    Node withValue(byte[] v) {
        return new Node(v, perms, children, generation);
    }

    Node withPerms(List<XsPerm> p) {
        return new Node(value, p, children, generation);
    }

    Node withChild(String name) {
        List<String> c = new ArrayList<>(children.size() + 1);
        c.addAll(children);
        c.add(name);
        return new Node(value, perms, List.copyOf(c), generation);
    }

    Node withoutChild(String name) {
        List<String> c = new ArrayList<>(children);
        c.remove(name);
        return new Node(value, perms, List.copyOf(c), generation);
    }

    Node withGeneration(long g) {
        return new Node(value, perms, children, g);
    }

    /** Bytes of the child list on the wire: every name NUL-terminated (C's {@code childlen}). */
    int childListLength() {
        int n = 0;
        for (String c : children) {
            n += c.length() + 1;
        }
        return n;
    }

    /** The record size C xenstored checks against the entry-size quota. */
    int recordSize() {
        return TDB_RECORD_HEADER + TDB_PERM_SIZE * perms.size() + value.length + childListLength();
    }
}
