package io.backplane.backend;

import io.backplane.api.backend.BackendContext;
import io.backplane.api.backend.BackendDevice;
import io.backplane.api.backend.BackendDriver;
import io.backplane.api.backend.DeviceException;
import io.backplane.api.device.DeviceId;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A vif-type driver that does what netback's xenbus.c does at connect (reads the frontend's
 * queue count and refuses more than offered) and records every call the core makes.
 */
final class TestDriver implements BackendDriver {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final Map<DeviceId, Dev> devices = new ConcurrentHashMap<>();
    volatile Predicate<DeviceId> failConnect = id -> false;
    volatile boolean hotplug = true;
    volatile Predicate<DeviceId> failProbe = id -> false;
    /** Connects of devices it names block until the latch opens (a device stuck in its driver). */
    volatile Predicate<DeviceId> slowConnect = id -> false;
    final java.util.concurrent.CountDownLatch slowRelease = new java.util.concurrent.CountDownLatch(1);
    /** Its devices swap ring strategies (else they keep BackendDevice's default refusal). */
    volatile boolean swaps;

    @Override
    public String deviceType() {
        return "vif";
    }

    @Override
    public BackendDevice probe(BackendContext context) {
        calls.add(context.id() + " probe");
        if (failProbe.test(context.id())) {
            throw new NullPointerException("driver bug");
        }
        context.backendKey("bridge").ifPresent(b -> context.log("bridge " + b));
        Dev d = new Dev(context);
        devices.put(context.id(), d);
        return d;
    }

    List<String> callsOf(DeviceId id) {
        return calls.stream().filter(c -> c.startsWith(id + " ")).map(c -> c.substring(id.toString().length() + 1)).toList();
    }

    final class Dev implements BackendDevice {
        final BackendContext ctx;
        volatile int queues;
        /** The ring strategy its rings run on, as status() reports it. */
        volatile String strategy = "grant-copy";
        /** What a swap to the fittest moves it to; null: no strategy fits its rings (the swap is refused). */
        volatile String fittest = "persistent";

        Dev(BackendContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void connect() {
            calls.add(ctx.id() + " connect");
            if (slowConnect.test(ctx.id())) {
                try {
                    slowRelease.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failConnect.test(ctx.id())) {
                throw new IllegalStateException("ring map refused for " + ctx.id());
            }
            int max = Integer.parseInt(ctx.negotiation().offer().get("multi-queue-max-queues"));
            int asked = Integer.parseInt(ctx.frontendKey("multi-queue-num-queues").orElse("1"));
            if (asked < 1 || asked > max) {
                // netback's words (xenbus.c connect()).
                throw new DeviceException("guest requested " + asked + " queues, exceeding the maximum of " + max + ".");
            }
            queues = asked;
            // As blkback and netback keep their request mirrors.
            ctx.stateDirectory().ifPresent(d -> {
                try {
                    java.nio.file.Files.writeString(d.resolve("queue-0.requests"), ctx.id().toString());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }

        @Override
        public Map<String, String> connection() {
            return queues == 0 ? Map.of() : Map.of(STATUS_QUEUES, Integer.toString(queues));
        }

        /** As netback's adopt: the frontend's keys must say what was recorded at its connect. */
        @Override
        public void adopt(Map<String, String> recorded) {
            calls.add(ctx.id() + " adopt");
            String asked = ctx.frontendKey("multi-queue-num-queues").orElse("1");
            if (!asked.equals(recorded.get(STATUS_QUEUES))) {
                throw new DeviceException("the frontend's keys say queues " + asked + ", but it connected with "
                        + recorded.get(STATUS_QUEUES) + ": not re-attaching");
            }
            queues = Integer.parseInt(asked);
        }

        @Override
        public void disconnect() {
            calls.add(ctx.id() + " disconnect");
            queues = 0;
        }

        @Override
        public void remove() {
            calls.add(ctx.id() + " remove");
        }

        @Override
        public boolean needsHotplug() {
            return hotplug;
        }

        @Override
        public List<io.backplane.api.backend.StrategySwap> swapStrategy(String name) {
            if (!swaps) {
                return BackendDevice.super.swapStrategy(name);
            }
            calls.add(ctx.id() + " swap");
            String to = name != null ? name : fittest;
            if (to == null) {
                throw new DeviceException("no ring strategy can serve the ring of queue 0");
            }
            String from = strategy;
            strategy = to;
            return List.of(new io.backplane.api.backend.StrategySwap("queue 0", from, to, 10));
        }

        @Override
        public Map<String, String> status() {
            return queues == 0 ? Map.of() : Map.of(STATUS_QUEUES, Integer.toString(queues), STATUS_STRATEGY, strategy,
                    STATUS_RING_ORDER, "0");
        }
    }
}
