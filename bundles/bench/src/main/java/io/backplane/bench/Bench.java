package io.backplane.bench;

import java.io.PrintStream;
import java.util.ArrayList;
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
        m.put("grants", new GrantsBench());
        m.put("ring", new RingBench());
        m.put("netif", new NetifBench());
        m.put("mirror", new MirrorBench());
        m.put("strategies", new StrategiesBench());
        m.put("fuzz", new io.backplane.bench.fuzz.XsWireFuzz());
        return m;
    }

    /**
     * {@code NAME [--option value ...] [NAME ...]}: runs each named benchmark in turn with the
     * options that follow its name.
     */
    public static void main(String[] args) throws Exception {
        Map<String, Benchmark> all = benchmarks();
        List<Map.Entry<Benchmark, List<String>>> runs = new ArrayList<>();
        for (String arg : args) {
            Benchmark b = all.get(arg);
            if (b != null) {
                runs.add(Map.entry(b, new ArrayList<>()));
            } else if (!runs.isEmpty() && (arg.startsWith("--") || !runs.get(runs.size() - 1).getValue().isEmpty())) {
                runs.get(runs.size() - 1).getValue().add(arg);
            } else {
                usage(all, "unknown benchmark '" + arg + "'");
                return;
            }
        }
        if (runs.isEmpty()) {
            usage(all, "usage: bench NAME [options] [NAME [options] ...]");
            return;
        }
        if (runs.stream().anyMatch(r -> r.getValue().contains("--help") || r.getValue().contains("-h"))) {
            // NAME --help describes NAME and its options instead of running it
            all.forEach((name, bench) -> {
                if (runs.stream().anyMatch(r -> r.getKey() == bench)) {
                    System.out.printf("%s: %s%n", name, bench.description());
                }
            });
            return;
        }
        for (Map.Entry<Benchmark, List<String>> run : runs) {
            try {
                run.getKey().run(run.getValue(), System.out);
            } catch (IllegalArgumentException e) {
                // bad option values (NumberFormatException included): one line, not a trace
                usage(all, "bad option: " + e.getMessage());
            } catch (BenchUnavailable e) {
                System.err.println("bench: cannot run here: " + e.getMessage());
                System.exit(1);
            }
        }
    }

    private static void usage(Map<String, Benchmark> all, String problem) {
        PrintStream err = System.err;
        err.println(problem);
        err.println("benchmarks:");
        all.forEach((name, bench) -> err.printf("  %-10s %s%n", name, bench.description()));
        System.exit(2);
    }
}
