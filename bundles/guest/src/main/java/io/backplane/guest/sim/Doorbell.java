package io.backplane.guest.sim;

import io.backplane.api.hypervisor.EventChannel;
import io.backplane.api.hypervisor.EventHandler;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Wakes one thread on an event channel, the way a ring driver sleeps: the handler only records
 * the event and unparks; the thread unmasks the port after waking, before its ring's final check,
 * so an event that comes in between is delivered again rather than lost. Pass it as the
 * channel's {@link EventHandler}; works on any {@link EventChannel} of the SPI.
 *
 * <pre>
 * while (running) {
 *     ... consume the ring ...
 *     if (!ring.finalCheckForResponses()) {
 *         doorbell.await(channel, 100);
 *     }
 * }
 * </pre>
 */
public final class Doorbell implements EventHandler {
    private final Thread waiter;
    private final AtomicBoolean rung = new AtomicBoolean();

    /** A doorbell that wakes {@code waiter}, the one thread that calls {@link #await}. */
    public Doorbell(Thread waiter) {
        this.waiter = waiter;
    }

    @Override
    public void onEvent(EventChannel channel) {
        rung.set(true);
        LockSupport.unpark(waiter);
    }

    /** Sleeps until the event comes (true, port re-armed) or the timeout passes (false). */
    public boolean await(EventChannel channel, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!rung.getAndSet(false)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            LockSupport.parkNanos(this, left);
        }
        channel.unmask();
        return true;
    }
}
