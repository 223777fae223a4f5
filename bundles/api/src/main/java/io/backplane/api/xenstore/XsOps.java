package io.backplane.api.xenstore;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The node operations shared by a XenStore connection and a transaction on it. Paths are
 * absolute ({@code /local/domain/0/...}) or relative to the connection's domain home.
 * Every failure is an {@link XsException} carrying the xs_wire error.
 */
public interface XsOps {

    /** READ: the node's value; ENOENT when it does not exist. */
    String read(String path);

    /** READ that maps ENOENT to empty, the common "is it there yet" question of xenbus code. */
    default Optional<String> tryRead(String path) {
        try {
            return Optional.of(read(path));
        } catch (XsException e) {
            if (e.error() == XsError.ENOENT) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * {@link #tryRead} of each path, in order. A connection may send them all before it waits
     * for the first reply (xenstored answers a connection's requests in order): one round trip
     * where a loop of tryRead takes one each. The default reads them one by one.
     */
    default List<Optional<String>> tryReadAll(List<String> paths) {
        List<Optional<String>> values = new ArrayList<>(paths.size());
        for (String path : paths) {
            values.add(tryRead(path));
        }
        return values;
    }

    /**
     * {@link #tryReadAll} of {@code reads}, then {@link #write} of each of {@code writes} in order,
     * made whatever the reads return. A connection may send them all before it waits for the first
     * reply: in a transaction, a claim whose writes do not depend on what it reads takes one round
     * trip, and the caller commits only when the values read are the ones it expected (aborting
     * otherwise undoes the writes). The default does them one by one.
     *
     * @return the values read, in the order of {@code reads}
     */
    default List<Optional<String>> tryReadAllThenWrite(List<String> reads, Map<String, String> writes) {
        List<Optional<String>> values = tryReadAll(reads);
        writes.forEach(this::write);
        return values;
    }

    /** WRITE: creates the node and any missing parents. */
    void write(String path, String value);

    /** MKDIR: creates an empty node (and parents) unless it exists. */
    void mkdir(String path);

    /** RM: removes the node and its subtree; OK when the node is missing but its parent exists. */
    void rm(String path);

    /** DIRECTORY (falling back to DIRECTORY_PART on E2BIG): the names of the node's children. */
    List<String> directory(String path);

    /** GET_PERMS: the node's permission list, owner first. */
    List<XsPerm> getPerms(String path);

    /** SET_PERMS: replaces the node's permission list; the first entry becomes the owner. */
    void setPerms(String path, List<XsPerm> perms);

    /** True when the node exists (READ without ENOENT, as xenstore-exists does). */
    default boolean exists(String path) {
        try {
            directory(path);
            return true;
        } catch (XsException e) {
            if (e.error() == XsError.ENOENT) {
                return false;
            }
            throw e;
        }
    }
}
