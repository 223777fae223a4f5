package io.backplane.backend;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.device.DeviceId;
import io.backplane.api.device.Negotiation;
import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XenStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** What a driver gets for one device; fatal errors go back to the device's lifecycle. */
final class DeviceContext implements BackendContext {
    private final DeviceLifecycle lifecycle;
    private final XenStore xenStore;
    private final OperatorLog log;
    private volatile Negotiation negotiation;
    private volatile String frontendPath;

    DeviceContext(DeviceLifecycle lifecycle, XenStore xenStore, OperatorLog log) {
        this.lifecycle = lifecycle;
        this.xenStore = xenStore;
        this.log = log;
    }

    void negotiation(Negotiation n) {
        this.negotiation = n;
    }

    void frontendPath(String path) {
        this.frontendPath = path;
    }

    String frontendPath() {
        return frontendPath;
    }

    @Override
    public DeviceId id() {
        return lifecycle.id();
    }

    @Override
    public XenStore xenstore() {
        return xenStore;
    }

    @Override
    public Negotiation negotiation() {
        Negotiation n = negotiation;
        if (n == null) {
            throw new IllegalStateException(id() + ": not negotiated yet");
        }
        return n;
    }

    @Override
    public Optional<String> backendKey(String key) {
        return xenStore.tryRead(id().backendPath() + "/" + key);
    }

    @Override
    public java.util.List<Optional<String>> backendKeys(java.util.List<String> keys) {
        String be = id().backendPath();
        return xenStore.tryReadAll(keys.stream().map(k -> be + "/" + k).toList());
    }

    @Override
    public Optional<String> frontendKey(String key) {
        String fe = frontendPath;
        return fe == null ? Optional.empty() : xenStore.tryRead(fe + "/" + key);
    }

    @Override
    public java.util.List<Optional<String>> frontendKeys(java.util.List<String> keys) {
        String fe = frontendPath;
        return fe == null ? keys.stream().map(k -> Optional.<String>empty()).toList()
                : xenStore.tryReadAll(keys.stream().map(k -> fe + "/" + k).toList());
    }

    @Override
    public void fatal(String reason) {
        lifecycle.fatal(reason);
    }

    @Override
    public void log(String message) {
        log.info(id() + ": " + message);
    }

    @Override
    public Optional<Path> stateDirectory() {
        Path stateDir = lifecycle.stateDir();
        if (stateDir == null) {
            return Optional.empty();
        }
        Path dir = DeviceRecord.files(stateDir, id());
        try {
            return Optional.of(Files.createDirectories(dir));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }
}
