package io.backplane.api.xenstore;

/** A registered watch; closing it sends UNWATCH. */
public interface XsWatch extends AutoCloseable {
    String path();

    String token();

    @Override
    void close();
}
