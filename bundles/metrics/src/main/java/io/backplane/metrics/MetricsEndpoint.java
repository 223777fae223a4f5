package io.backplane.metrics;

import io.backplane.api.log.OperatorLog;
import java.io.IOException;
import java.net.InetSocketAddress;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import io.backplane.api.metrics.MetricSource;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Serves {@code http://ADDRESS/metrics} in Prometheus' text format with the Prometheus Java
 * client's own HTTP server: every {@link MetricSource} service's numbers and the JVM's
 * (memory, GC, threads, classes). Off while {@code io.backplane.metrics} names no address.
 */
@Component(configurationPid = "io.backplane.metrics", immediate = true, service = {})
@Designate(ocd = MetricsConfig.class)
public class MetricsEndpoint {

    private final Logger log;
    private final SourceCollector sources;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private HTTPServer server;

    @Activate
    public MetricsEndpoint(@Reference(service = LoggerFactory.class) Logger log, MetricsConfig config) throws IOException {
        this.log = log;
        this.sources = new SourceCollector(OperatorLog.of(log::info, log::warn, log::error));
        registry.register(sources);
        JvmMetrics.builder().register(registry);
        listen(config);
    }

    /** Bound after the constructor ran (DS binds dynamic references to the constructed instance). */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addSource(MetricSource source) {
        sources.add(source);
    }

    void removeSource(MetricSource source) {
        sources.remove(source);
    }

    @Modified
    void modified(MetricsConfig config) throws IOException {
        close();
        listen(config);
    }

    private synchronized void listen(MetricsConfig config) throws IOException {
        String address = config.address().trim();
        if (address.isEmpty()) {
            log.info("metrics endpoint off (set address in io.backplane.metrics, e.g. 127.0.0.1:9464)");
            return;
        }
        InetSocketAddress bind = parse(address);
        try {
            server = HTTPServer.builder().hostname(bind.getHostString()).port(bind.getPort()).registry(registry).buildAndStart();
        } catch (IOException e) {
            throw new IOException("metrics endpoint cannot listen on " + address + ": " + e.getMessage(), e);
        }
        log.info("metrics endpoint listening on http://{}:{}/metrics", bind.getHostString(), server.getPort());
    }

    /** HOST:PORT, [IPv6]:PORT; a clear error for anything else. */
    static InetSocketAddress parse(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("metrics address '" + address + "' is not HOST:PORT (e.g. 127.0.0.1:9464)");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("metrics address '" + address + "' has no port from 0 to 65535");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    @Deactivate
    synchronized void close() {
        if (server != null) {
            server.stop();
            log.info("metrics endpoint closed");
            server = null;
        }
    }
}
