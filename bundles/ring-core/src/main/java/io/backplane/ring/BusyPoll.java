package io.backplane.ring;

/**
 * Busy-polling a ring instead of sleeping on its event channel, as the ring benchmark's peers do
 * without their FIFOs (ring-core's ring_wait.h): the side with nothing to do looks at the ring
 * again at once, with a spin-wait hint each round and a yield every 4096 idle rounds, so a peer
 * that shares its CPU still runs. Whether the caller still re-arms its event index is its own
 * choice: bench ring's Java backend keeps ring.h's final check, netback's busy-polling worker
 * does not, so its frontend stops notifying once the last notification asked for is past. One
 * per thread.
 */
public final class BusyPoll {
    private static final int YIELD_EVERY = 0x1000;
    private long idle;

    /** One idle round; true every {@value #YIELD_EVERY} rounds, after a yield: a moment to look at a clock. */
    public boolean spin() {
        Thread.onSpinWait();
        if ((++idle & (YIELD_EVERY - 1)) == 0) {
            Thread.yield();
            return true;
        }
        return false;
    }
}
