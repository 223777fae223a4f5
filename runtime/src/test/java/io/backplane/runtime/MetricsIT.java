package io.backplane.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.backplane.control.client.ControlClient;

import static io.backplane.runtime.LaunchedRuntime.run;

/**
 * The Prometheus endpoint of a running instance, scraped while the demo guest's netfront and
 * blkfront traffic runs: every counter pv:show prints for a device is there with the same
 * labels, and its value lies between pv:show's reading just before the scrape and just after.
 */
class MetricsIT {

    private static final Path EXAMPLES = LaunchedRuntime.REPO.resolve("examples");
    private static final Pattern SAMPLE = Pattern.compile("(\\w+)(?:\\{(.*)})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    @TempDir
    Path dir;

    private Process runtime;
    private final List<String> console = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        if (runtime != null) {
            runtime.toHandle().destroy();
            if (!runtime.waitFor(60, TimeUnit.SECONDS)) {
                runtime.destroyForcibly();
            }
        }
    }

    @Test
    void theEndpointServesPvShowsCountersAndTheJvmsDuringTraffic() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path features = LaunchedRuntime.featuresWith(dir, """
                {
                  "feature-resource-version": "1.0",
                  "id": "io.backplane:backplane-metrics-test:osgifeature:0.1.0-SNAPSHOT",
                  "bundles": [],
                  "configurations": {
                    "io.backplane.metrics": { "address": "127.0.0.1:%d" },
                    "io.backplane.toolstack": { "guestCommand": "{java} -jar {guest.jar} --state-dir {state} --domid {domid} --net size=1514,rate=0,count=1000000000 --vbd ops=-1,depth=8" }
                  }
                }
                """.formatted(port));
        Path state = dir.resolve("s");
        runtime = LaunchedRuntime.start(state, features, dir.resolve("deploy"), console);

        Path cfg = Files.copy(EXAMPLES.resolve("demo.cfg"), dir.resolve("demo.cfg"));
        try (RandomAccessFile image = new RandomAccessFile(dir.resolve("demo-disk.img").toFile(), "rw")) {
            image.setLength(64L << 20);
        }
        try (ControlClient client = ControlClient.connect(state.resolve("control.sock"))) {
            assertThat(console).anyMatch(l -> l.contains("metrics endpoint listening on http://127.0.0.1:" + port + "/metrics"));
            assertThat(run(client, "xl:create " + cfg)).startsWith("Created domain 1 with 1/vif/0, 1/vbd/51712");
            for (String device : List.of("demo/vif/0", "demo/vbd/51712")) {
                await(client, device, status -> status.getOrDefault("queue-0/" + (device.contains("vif") ? "rx-packets" : "rd_req"), 0L) > 0);
            }
            HttpClient http = HttpClient.newHttpClient();
            for (String device : List.of("demo/vif/0", "demo/vbd/51712")) {
                Map<String, Long> before = normalise(status(run(client, "pv:show " + device)));
                HttpResponse<String> scrape = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                Map<String, Long> after = normalise(status(run(client, "pv:show " + device)));
                assertThat(scrape.statusCode()).isEqualTo(200);
                assertThat(scrape.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
                Map<String, Double> metrics = deviceMetrics(scrape.body(), device);
                assertThat(before).isNotEmpty();
                before.forEach((key, was) -> {
                    Double scraped = metrics.get(key);
                    assertThat(scraped).as("%s %s in /metrics", device, key).isNotNull();
                    assertThat(scraped).as("%s %s between pv:show before and after", device, key)
                            .isBetween((double) Math.min(was, after.get(key)), (double) Math.max(was, after.get(key)));
                });
                assertThat(metrics.keySet()).containsExactlyInAnyOrderElementsOf(before.keySet());
                String traffic = device.contains("vif") ? "queue-0/rx_packets" : "queue-0/rd_req";
                assertThat(after.get(traffic)).as("traffic runs during the scrape").isGreaterThan(0);
                assertThat(scrape.body()).contains("backplane_device{backend_state=\"CONNECTED\",devid=\"" + device.split("/")[2]
                        + "\",domain=\"demo\",domid=\"1\",frontend_state=\"CONNECTED\",strategy=\"");
                assertThat(scrape.body()).containsPattern("(?m)^backplane_xenstore_domain_nodes\\{domid=\"1\"} [1-9]")
                        // the guest's frontends talk to the store on their socket and watch their backends
                        .containsPattern("(?m)^backplane_xenstore_domain_requests\\{domid=\"1\"} [1-9]")
                        .containsPattern("(?m)^backplane_xenstore_domain_watch_events\\{domid=\"1\"} [1-9]")
                        .containsPattern("(?m)^backplane_xenstore_domain_quota_hits\\{domid=\"1\"} 0\\.0$")
                        .containsPattern("(?m)^jvm_memory_used_bytes\\{area=\"heap\"} [1-9]")
                        .containsPattern("(?m)^jvm_threads_current [1-9]");
            }
        }
    }

    /** pv:show's numeric status lines, {@code queue-0/rd-req = 352}. */
    private static Map<String, Long> status(String show) {
        Map<String, Long> out = new TreeMap<>();
        Matcher m = Pattern.compile("(?m)^  (\\S+) = (-?\\d+)$").matcher(show.substring(show.indexOf("status:")));
        while (m.find()) {
            out.put(m.group(1), Long.parseLong(m.group(2)));
        }
        return out;
    }

    /** The scrape's backplane_device_* samples of one device, keyed as pv:show names them. */
    private static Map<String, Double> deviceMetrics(String body, String device) {
        String[] d = device.split("/");
        Map<String, Double> out = new HashMap<>();
        for (String line : body.lines().filter(l -> l.startsWith("backplane_device_")).toList()) {
            Matcher m = SAMPLE.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            Map<String, String> labels = new HashMap<>();
            Matcher l = LABEL.matcher(m.group(2) == null ? "" : m.group(2));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            if (!d[0].equals(labels.get("domain")) || !d[1].equals(labels.get("type")) || !d[2].equals(labels.get("devid"))) {
                continue;
            }
            String name = m.group(1).substring("backplane_device_".length());
            out.put((labels.containsKey("queue") ? "queue-" + labels.get("queue") + "/" : "") + name, Double.parseDouble(m.group(3)));
        }
        return out;
    }

    /** Maps pv:show's keys to the metric names' form (dashes and slashes as underscores) for comparison. */
    private static Map<String, Long> normalise(Map<String, Long> status) {
        Map<String, Long> out = new TreeMap<>();
        status.forEach((k, v) -> {
            Matcher q = Pattern.compile("(queue-\\d+/)(.*)").matcher(k);
            out.put(q.matches() ? q.group(1) + q.group(2).replaceAll("[^A-Za-z0-9]", "_") : k.replaceAll("[^A-Za-z0-9]", "_"), v);
        });
        return out;
    }

    private void await(ControlClient client, String device, java.util.function.Predicate<Map<String, Long>> wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String show = "";
        while (System.nanoTime() < deadline) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (client.run("pv:show " + device, out, new ByteArrayOutputStream()) == 0) {
                show = out.toString(StandardCharsets.UTF_8);
                if (show.contains("status:") && wanted.test(status(show))) {
                    return;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError(device + " never carried traffic; last pv:show:\n" + show + "\nconsole:\n" + String.join("\n", console));
    }
}
