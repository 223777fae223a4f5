package io.backplane.xs.client;

import io.backplane.api.xenstore.XsOps;
import io.backplane.api.xenstore.XsPerm;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The node operations of a connection outside any transaction, handed to the {@link XsOps} that
 * really performs them (transaction id 0 of the connection, or the client of the configured mode).
 */
public interface ForwardingXsOps extends XsOps {

    /** Where node operations go. */
    XsOps nodeOps();

    @Override
    default String read(String path) {
        return nodeOps().read(path);
    }

    @Override
    default List<Optional<String>> tryReadAll(List<String> paths) {
        return nodeOps().tryReadAll(paths);
    }

    @Override
    default List<Optional<String>> tryReadAllThenWrite(List<String> reads, Map<String, String> writes) {
        return nodeOps().tryReadAllThenWrite(reads, writes);
    }

    @Override
    default void write(String path, String value) {
        nodeOps().write(path, value);
    }

    @Override
    default void mkdir(String path) {
        nodeOps().mkdir(path);
    }

    @Override
    default void rm(String path) {
        nodeOps().rm(path);
    }

    @Override
    default List<String> directory(String path) {
        return nodeOps().directory(path);
    }

    @Override
    default List<XsPerm> getPerms(String path) {
        return nodeOps().getPerms(path);
    }

    @Override
    default void setPerms(String path, List<XsPerm> perms) {
        nodeOps().setPerms(path, perms);
    }
}
