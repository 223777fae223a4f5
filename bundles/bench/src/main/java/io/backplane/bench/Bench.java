package io.backplane.bench;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code backplane bench <name> [options]}: runs one benchmark, which measures a component
 * side by side with a baseline in the same run and reports ratios. Add a benchmark by adding
 * one entry to {@link #benchmarks()}.
 */
public final class Bench {

    /** One benchmark: prints progress and its result table to {@code out}. */
    public interface Benchmark {
        String description();

        void run(List<String> args, PrintStream out) throws Exception;
    }

    static Map<String, Benchmark> benchmarks() {
        Map<String, Benchmark> m = new LinkedHashMap<>();
        m.put("xenstore", new XenStoreBench());
        return m;
    }

    public static void main(String[] args) throws Exception {
        Map<String, Benchmark> all = benchmarks();
        Benchmark b = args.length == 0 ? null : all.get(args[0]);
        if (b == null) {
            PrintStream err = System.err;
            err.println(args.length == 0 ? "usage: bench NAME [options]" : "unknown benchmark '" + args[0] + "'");
            err.println("benchmarks:");
            all.forEach((name, bench) -> err.printf("  %-10s %s%n", name, bench.description()));
            System.exit(2);
        }
        b.run(Arrays.asList(args).subList(1, args.length), System.out);
    }
}
