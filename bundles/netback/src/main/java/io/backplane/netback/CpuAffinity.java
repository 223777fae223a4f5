package io.backplane.netback;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Pins the calling thread to a CPU set, the seed's affinity item. Java has no thread affinity
 * call, so this does what an operator would: {@code taskset -pc CPUS TID} on the thread's own
 * kernel task id (from {@code /proc/thread-self}), then reads {@code Cpus_allowed_list} back to
 * report what the kernel actually applied.
 */
final class CpuAffinity {

    private CpuAffinity() {
    }

    /** Validates a cpulist such as {@code 0}, {@code 0-1} or {@code 0,2-3}; empty means "not pinned". */
    static String check(String cpus) {
        String s = cpus == null ? "" : cpus.trim();
        if (!s.isEmpty() && !s.matches("[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*")) {
            throw new IllegalArgumentException("CPU set '" + cpus + "' is not a cpulist like 0-1 or 0,2");
        }
        return s;
    }

    /**
     * Pins the current thread to {@code cpus}. Returns the CPU list the kernel now allows this
     * thread, or a sentence saying why pinning did not happen (the intended set is kept then).
     */
    static String pinCurrentThread(String cpus) {
        try {
            Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));   // "<pid>/task/<tid>"
            String tid = self.getFileName().toString();
            Process p = new ProcessBuilder("taskset", "-pc", cpus, tid).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return "not pinned (taskset: " + out + ")";
            }
            return allowedCpus();
        } catch (IOException e) {
            return "not pinned (" + e.getMessage() + "; install util-linux for taskset)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "not pinned (interrupted)";
        }
    }

    /** The current thread's {@code Cpus_allowed_list}. */
    static String allowedCpus() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return "unknown";
    }
}
