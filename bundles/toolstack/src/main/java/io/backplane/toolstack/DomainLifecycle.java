package io.backplane.toolstack;

import io.backplane.api.hypervisor.DomainInfo;
import io.backplane.api.hypervisor.DomainListener;
import io.backplane.api.hypervisor.DomainState;
import io.backplane.api.hypervisor.ShutdownReason;
import io.backplane.api.log.OperatorLog;
import io.backplane.toolstack.config.DomainConfig;
import io.backplane.toolstack.config.LifecycleAction;
import io.backplane.toolstack.config.LifecycleActions;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * What xl does when a guest it created stops (libxl's domain death handling): its
 * {@code on_poweroff}, {@code on_reboot}, {@code on_watchdog} or {@code on_crash} action, chosen by
 * the reason the guest gave (SCHEDOP_shutdown) or by its death (a guest process that exits without
 * shutting down is a crash). Hears the hypervisor as a {@link DomainListener} and the guest
 * launcher's process exits; acts on its own thread, one domain after another, so the hypervisor's
 * notification thread never waits for a destroy.
 */
final class DomainLifecycle implements DomainListener, AutoCloseable {

    private final Toolstack toolstack;
    private final IntFunction<Optional<DomainInfo>> hypervisor;
    private final OperatorLog log;
    private final ExecutorService worker;
    /** Preserved domains already reported, so a second notice of the same stop is not acted on twice. */
    private final Set<Integer> preserved = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * @param hypervisor the hypervisor's view of a domain ({@code Domains.info}); empty when gone
     *                   or when no hypervisor runs
     */
    DomainLifecycle(Toolstack toolstack, IntFunction<Optional<DomainInfo>> hypervisor, OperatorLog log) {
        this.toolstack = toolstack;
        this.hypervisor = hypervisor;
        this.log = log;
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "toolstack-domain-lifecycle");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void domainShutdown(DomainInfo domain) {
        ShutdownReason reason = domain.shutdownReason() == null ? ShutdownReason.CRASH : domain.shutdownReason();
        submit(() -> act(domain.domid(), reason, ""));
    }

    @Override
    public void domainDestroyed(int domid) {
        preserved.remove(domid);
    }

    /**
     * A guest process ended on its own. When the guest shut down first, its reason counts;
     * otherwise (killed, crashed before or without SCHEDOP_shutdown) it is a crash.
     */
    void guestExited(int domid, int status) {
        submit(() -> {
            Optional<DomainInfo> d = hypervisor.apply(domid);
            if (d.isPresent() && d.get().state() == DomainState.SHUTDOWN && d.get().shutdownReason() != null) {
                act(domid, d.get().shutdownReason(), "");
            } else if (d.isEmpty() || d.get().state() == DomainState.RUNNING) {
                act(domid, ShutdownReason.CRASH, status < 0 ? " (its guest process exited)"
                        : " (its guest process exited with status " + status + ")");
            }
        });
    }

    private void submit(Runnable task) {
        if (closed) {
            return;
        }
        try {
            worker.execute(() -> {
                if (closed) {
                    return;
                }
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.warn("domain lifecycle: " + e.getMessage());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: the toolstack no longer acts on domains
        }
    }

    private void act(int domid, ShutdownReason reason, String detail) {
        Optional<DomainConfig> config = toolstack.config(domid);
        if (config.isEmpty()) {
            return; // not ours, or already destroyed (by xl:destroy or an earlier notice of the same stop)
        }
        String domain = "domain " + domid + " (" + config.get().name() + ") " + what(reason) + detail;
        Optional<String> setting = setting(reason);
        if (setting.isEmpty()) {
            // SHUTDOWN_suspend belongs to save/migrate, soft reset is not supported: the domain stays as it is.
            if (preserved.add(domid)) {
                log.info(domain + ": left shut down until xl:destroy (Backplane has no action for it)");
            }
            return;
        }
        LifecycleAction action = config.get().actions().asMap().get(setting.get());
        String why = " (" + setting.get() + "=" + action.configName() + ")";
        switch (action) {
            case DESTROY -> {
                if (toolstack.destroyManaged(domid)) {
                    log.info(domain + ": destroyed" + why);
                }
            }
            case RESTART -> {
                try {
                    toolstack.restart(domid).ifPresent(c -> log.info(domain + ": restarted as domain " + c.domid()
                            + why));
                } catch (RuntimeException e) {
                    log.warn(domain + ": destroyed, but creating it again failed" + why + ": " + e.getMessage());
                }
            }
            case PRESERVE -> {
                if (preserved.add(domid)) {
                    log.info(domain + ": preserved, shut down with its devices until xl:destroy" + why);
                }
            }
        }
    }

    private static String what(ShutdownReason reason) {
        return switch (reason) {
            case POWEROFF -> "powered off";
            case REBOOT -> "rebooted";
            case SUSPEND -> "suspended";
            case CRASH -> "crashed";
            case WATCHDOG -> "was stopped by its watchdog";
            case SOFT_RESET -> "asked for a soft reset";
        };
    }

    /** The xl setting that decides what follows a shutdown for {@code reason}; empty when none does. */
    private static Optional<String> setting(ShutdownReason reason) {
        return switch (reason) {
            case POWEROFF -> Optional.of(LifecycleActions.ON_POWEROFF);
            case REBOOT -> Optional.of(LifecycleActions.ON_REBOOT);
            case WATCHDOG -> Optional.of(LifecycleActions.ON_WATCHDOG);
            case CRASH -> Optional.of(LifecycleActions.ON_CRASH);
            case SUSPEND, SOFT_RESET -> Optional.empty();
        };
    }

    /** Stops acting on domains (the toolstack is going away); what is under way finishes first. */
    @Override
    public void close() {
        closed = true;
        worker.shutdown();
        try {
            worker.awaitTermination(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
