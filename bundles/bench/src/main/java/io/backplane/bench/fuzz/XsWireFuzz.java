package io.backplane.bench.fuzz;

import io.backplane.api.log.OperatorLog;
import io.backplane.api.xenstore.XsPerm;
import io.backplane.bench.Bench;
import io.backplane.xenstore.client.EmbeddedXenStore;
import io.backplane.xs.client.SocketXenStore;
import io.backplane.xenstore.store.Quotas;
import io.backplane.xenstore.store.Store;
import io.backplane.xenstore.wire.XenStoreDaemon;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench fuzz}: random and malformed xs_wire frames on dom0's socket and on two guests'
 * sockets, for a set time, while a well-behaved dom0 tool and a well-behaved guest (domain 1)
 * check every answer they get. Reports frames, connections, the checker's rounds and slowest
 * step, and what the daemon logged; fails when the checker saw anything wrong.
 */
public final class XsWireFuzz implements Bench.Benchmark {
    static final int CHECKED_GUEST = 1;
    static final int[] FUZZING_GUESTS = {2, 3};
    static final String CHECKED_DIR = "/good";

    /** What a run did and found. */
    public record Result(long frames, long connections, long rounds, long slowestMs, List<String> failures,
                         long warnings, long infos) {
    }

    @Override
    public String description() {
        return "xs_wire fuzzing of dom0's and guests' sockets with a well-behaved client checked throughout [--seconds N] [--seed N]";
    }

    @Override
    public void run(List<String> args, PrintStream out) throws Exception {
        int seconds = Integer.parseInt(option(args, "--seconds", "60"));
        long seed = Long.parseLong(option(args, "--seed", Long.toString(System.nanoTime())));
        out.printf("fuzzing xs_wire for %d s, seed %d ...%n", seconds, seed);
        Result r = run(Duration.ofSeconds(seconds), seed);
        out.printf("%,d frames on %,d connections; the well-behaved clients did %,d rounds, slowest step %d ms;"
                + " the daemon logged %d warnings and %d other lines%n",
                r.frames(), r.connections(), r.rounds(), r.slowestMs(), r.warnings(), r.infos());
        if (!r.failures().isEmpty()) {
            r.failures().forEach(f -> out.println("FAILED: " + f));
            throw new IllegalStateException("the well-behaved client saw " + r.failures().size() + " failures (seed " + seed + ")");
        }
        out.println("no failure");
    }

    private static String option(List<String> args, String name, String dflt) {
        int i = args.indexOf(name);
        return i < 0 || i + 1 >= args.size() ? dflt : args.get(i + 1);
    }

    public static Result run(Duration duration, long seed) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("backplane-fuzz-xs");
        AtomicLong warnings = new AtomicLong();
        AtomicLong infos = new AtomicLong();
        OperatorLog counting = OperatorLog.of(line -> infos.incrementAndGet(), line -> warnings.incrementAndGet(),
                (line, cause) -> warnings.incrementAndGet());
        Store store = new Store(Quotas.XEN_4_17);
        try (XenStoreDaemon daemon = new XenStoreDaemon(store, dir, counting);
             EmbeddedXenStore setup = new EmbeddedXenStore(store)) {
            daemon.start();
            setup.mkdir(CHECKED_DIR);
            for (int domid : new int[] {CHECKED_GUEST, FUZZING_GUESTS[0], FUZZING_GUESTS[1]}) {
                String home = setup.getDomainPath(domid);
                setup.mkdir(home);
                setup.setPerms(home, List.of(XsPerm.none(domid)));
                setup.introduceDomain(domid, 1, 1);
            }
            long deadline = System.nanoTime() + duration.toNanos();
            List<XsWireFuzzer> fuzzers = new ArrayList<>();
            fuzzers.add(new XsWireFuzzer(daemon.dom0Socket(), XsWireFuzzer.DOM0_PATHS, seed, deadline));
            for (int domid : FUZZING_GUESTS) {
                fuzzers.add(new XsWireFuzzer(XenStoreDaemon.domainSocket(dir, domid),
                        XsWireFuzzer.guestPaths(domid, setup.getDomainPath(CHECKED_GUEST), CHECKED_DIR), seed + domid, deadline));
            }
            try (SocketXenStore dom0 = new SocketXenStore(daemon.dom0Socket());
                 SocketXenStore guest = new SocketXenStore(XenStoreDaemon.domainSocket(dir, CHECKED_GUEST))) {
                WellBehavedClient checker = new WellBehavedClient(dom0, guest, CHECKED_DIR, deadline);
                List<Thread> threads = new ArrayList<>();
                for (XsWireFuzzer f : fuzzers) {
                    threads.add(new Thread(f, "fuzz-xs"));
                }
                threads.add(new Thread(checker, "fuzz-xs-checker"));
                threads.forEach(Thread::start);
                for (Thread t : threads) {
                    t.join(duration.toMillis() + 30_000);
                }
                long frames = fuzzers.stream().mapToLong(f -> f.framesSent.get()).sum();
                long connections = fuzzers.stream().mapToLong(f -> f.connections.get()).sum();
                List<String> failures = new ArrayList<>(checker.failures());
                threads.stream().filter(Thread::isAlive).forEach(t -> failures.add(t.getName() + " did not finish"));
                return new Result(frames, connections, checker.rounds(), checker.slowestMs(), failures,
                        warnings.get(), infos.get());
            }
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
