package io.backplane.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backplane.api.log.OperatorLog;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;

class SourceCollectorTest {

    @Test
    void samplesOfOneNameFromSeveralSourcesFormOneFamilyAndAFailingSourceIsLeftOut() throws Exception {
        List<String> problems = new ArrayList<>();
        SourceCollector collector = new SourceCollector(OperatorLog.lines(problems::add));
        collector.add(s -> s.sample("device_rx_bytes", "bytes received", Map.of("domid", "1", "queue", "0"), 586));
        collector.add(s -> {
            throw new IllegalStateException("store closed");
        });
        collector.add(s -> s.sample("device_rx_bytes", "bytes received", Map.of("domid", "2", "queue", "0"), 7));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, collector.collect());
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("""
                # HELP backplane_device_rx_bytes bytes received
                # TYPE backplane_device_rx_bytes untyped
                backplane_device_rx_bytes{domid="1",queue="0"} 586.0
                backplane_device_rx_bytes{domid="2",queue="0"} 7.0
                """);
        assertThat(problems).singleElement().asString().contains("failed: java.lang.IllegalStateException: store closed");
    }

    @Test
    void addressesAreHostColonPort() {
        assertThat(MetricsEndpoint.parse("127.0.0.1:9464").getPort()).isEqualTo(9464);
        assertThat(MetricsEndpoint.parse("[::1]:9464").getHostString()).isEqualTo("::1");
        assertThatThrownBy(() -> MetricsEndpoint.parse("localhost")).hasMessageContaining("is not HOST:PORT");
        assertThatThrownBy(() -> MetricsEndpoint.parse("localhost:http")).hasMessageContaining("no port from 0 to 65535");
    }
}
