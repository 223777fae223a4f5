package io.backplane.metrics;

import io.backplane.api.log.OperatorLog;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import io.backplane.api.metrics.MetricSource;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;

/**
 * Turns what the {@link MetricSource} services report into Prometheus snapshots at each scrape:
 * one metric family {@code backplane_<name>} per name, one data point per label set. Their
 * values are the numbers the shell shows, so they are exported as they are, typed unknown
 * (counters and gauges side by side, as the sources report them). A source that fails is left
 * out of that scrape and reported, the others are served.
 */
final class SourceCollector implements MultiCollector {

    static final String PREFIX = "backplane_";

    private final List<MetricSource> sources = new CopyOnWriteArrayList<>();
    private final OperatorLog log;

    SourceCollector(OperatorLog log) {
        this.log = log;
    }

    void add(MetricSource source) {
        sources.add(source);
    }

    void remove(MetricSource source) {
        sources.remove(source);
    }

    private record Family(String help, List<UnknownSnapshot.UnknownDataPointSnapshot> points) {
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, Family> families = new LinkedHashMap<>();
        for (MetricSource source : sources) {
            Map<String, Family> fromSource = new LinkedHashMap<>();
            try {
                source.collect((name, help, labels, value) -> {
                    String metric = PrometheusNaming.sanitizeMetricName(PREFIX + name);
                    Labels.Builder l = Labels.builder();
                    labels.forEach((k, v) -> l.label(PrometheusNaming.sanitizeLabelName(k), v));
                    fromSource.computeIfAbsent(metric, m -> new Family(help, new ArrayList<>()))
                            .points().add(new UnknownSnapshot.UnknownDataPointSnapshot(value, l.build(), null));
                });
            } catch (RuntimeException e) {
                log.warn("metric source " + source.getClass().getName() + " failed: " + e);
                continue;
            }
            fromSource.forEach((name, f) -> families.merge(name, f, (a, b) -> {
                a.points().addAll(b.points());
                return a;
            }));
        }
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        families.forEach((name, f) -> out.metricSnapshot(new UnknownSnapshot(new MetricMetadata(name, f.help()), f.points())));
        return out.build();
    }
}
