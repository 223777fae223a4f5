package io.backplane.api.metrics;

import java.util.Map;

/**
 * Numbers a bundle offers to the metrics endpoint (whiteboard: register it as a service): the
 * same numbers its shell commands show, read when the endpoint is scraped.
 */
public interface MetricSource {

    /** Receives the samples of one collection. */
    interface Samples {
        /**
         * One sample.
         *
         * @param name   snake_case without the {@code backplane_} prefix, e.g. {@code device_rx_bytes}
         * @param help   what it counts, in operator words (the same for every sample of a name)
         * @param labels what it is about, e.g. domain, domid, type, devid, queue
         */
        void sample(String name, String help, Map<String, String> labels, double value);
    }

    /** Reports the current values; called on the endpoint's thread, must not block for long. */
    void collect(Samples samples);
}
