package io.backplane.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine a benchmark ran on, for the record next to its numbers. */
final class MachineInfo {
    private MachineInfo() {
    }

    static String describe() {
        return "nproc " + Runtime.getRuntime().availableProcessors() + ", CPU " + cpuModel()
                + ", Java " + System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vm.name") + ")";
    }

    /** The 1-, 5- and 15-minute load averages (/proc/loadavg), or "unknown". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | ArrayIndexOutOfBoundsException e) {
            return "unknown";
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux: say so below
        }
        return "unknown";
    }
}
