package io.backplane.blkback;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * When each step of a re-attached ring's opening ended ({@link System#nanoTime}), said with its
 * first answer (where the guest's pause goes), and what the opening's thread got of the CPUs
 * meanwhile. Kept as numbers until then: building the line in the pause cost the ring's thread
 * 0.1 s and more under emulation.
 *
 * @param held     the ring was made from what a standby held ({@code refreshed}: its grant record read again)
 * @param atBegin  the opening thread's scheduler times at {@code begin} (null: unknown), {@code made} and {@code bound}
 */
record OpeningSteps(long begin, long refreshed, long opened, long made, long bound, boolean held,
                    SchedTimes atBegin, SchedTimes atMade, SchedTimes atBound) {

    String describe() {
        return (held ? "grant record read again " + ms(refreshed - begin) + ", ring opened from what was held "
                + ms(opened - refreshed) : "ring mapped " + ms(opened - begin)) + ", request mirror and ring state "
                + ms(made - opened) + ", port bound " + ms(bound - made)
                + (atBegin != null && atMade != null && atBound != null ? "; its thread spent " + atBound.since(atBegin)
                + ", of them in the bind " + atBound.since(atMade) : "");
    }

    private static String ms(long nanos) {
        return nanos / 1_000_000 + " ms";
    }

    /**
     * A thread's times from Linux's {@code schedstat}: on a CPU, and runnable but waiting for one
     * (ns). The rest of a step's wall time the thread slept: a lock, the kernel, another thread.
     */
    record SchedTimes(long onCpu, long waiting) {
        /** The calling thread's; null where /proc/thread-self/schedstat cannot be read. */
        static SchedTimes ofThisThread() {
            try {
                String[] f = Files.readString(Path.of("/proc/thread-self/schedstat")).trim().split(" ");
                return new SchedTimes(Long.parseLong(f[0]), Long.parseLong(f[1]));
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        /** {@code N ms on a CPU and M ms waiting for one} since {@code before}. */
        String since(SchedTimes before) {
            return ms(onCpu - before.onCpu) + " on a CPU and " + ms(waiting - before.waiting) + " waiting for one";
        }
    }
}
