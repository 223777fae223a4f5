package io.backplane.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** What every benchmark needs: its {@code --name value} options, medians, cleaning up a directory. */
final class Options {
    private Options() {
    }

    /** The value after {@code name} in {@code args}, or {@code dflt}; IllegalArgumentException when it is missing. */
    static String option(List<String> args, String name, String dflt) {
        int i = args.indexOf(name);
        if (i < 0) {
            return dflt;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args.get(i + 1);
    }

    /** A comma-separated list of positive integers ({@code --batches 1,8,64}). */
    static int[] intList(List<String> args, String name, String dflt) {
        int[] v = Arrays.stream(option(args, name, dflt).split(",")).mapToInt(Integer::parseInt).toArray();
        if (v.length == 0 || Arrays.stream(v).anyMatch(x -> x <= 0)) {
            throw new IllegalArgumentException(name + " takes positive numbers separated by commas");
        }
        return v;
    }

    /** The median (upper median for an even count). */
    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /**
     * The median of {@code a[r] / b[r]}: runs r of a and b ran back to back, so each ratio sees
     * one load, where the ratio of two medians mixes the load of different moments.
     */
    static double medianRatio(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] / b[i];
        }
        return median(r);
    }

    static void deleteTree(Path dir) throws IOException {
        List<Path> all = new ArrayList<>();
        try (var s = Files.walk(dir)) {
            s.forEach(all::add);
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            Files.deleteIfExists(all.get(i));
        }
    }
}
