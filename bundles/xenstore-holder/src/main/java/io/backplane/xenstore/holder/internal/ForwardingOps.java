package io.backplane.xenstore.holder.internal;

import io.backplane.api.xenstore.XsOps;
import io.backplane.api.xenstore.XsPerm;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** Node operations run on whatever {@link #on} picks: the attached store, or a transaction's. */
interface ForwardingOps extends XsOps {
    <T> T on(Function<XsOps, T> op);

    @Override
    default String read(String path) {
        return on(o -> o.read(path));
    }

    // Sent together on the store's connection: forwarded whole, or the XsOps default would read one at a time.
    @Override
    default List<Optional<String>> tryReadAll(List<String> paths) {
        return on(o -> o.tryReadAll(paths));
    }

    @Override
    default List<Optional<String>> tryReadAllThenWrite(List<String> reads, Map<String, String> writes) {
        return on(o -> o.tryReadAllThenWrite(reads, writes));
    }

    @Override
    default void write(String path, String value) {
        on(o -> {
            o.write(path, value);
            return null;
        });
    }

    @Override
    default void mkdir(String path) {
        on(o -> {
            o.mkdir(path);
            return null;
        });
    }

    @Override
    default void rm(String path) {
        on(o -> {
            o.rm(path);
            return null;
        });
    }

    @Override
    default List<String> directory(String path) {
        return on(o -> o.directory(path));
    }

    @Override
    default List<XsPerm> getPerms(String path) {
        return on(o -> o.getPerms(path));
    }

    @Override
    default void setPerms(String path, List<XsPerm> perms) {
        on(o -> {
            o.setPerms(path, perms);
            return null;
        });
    }
}
