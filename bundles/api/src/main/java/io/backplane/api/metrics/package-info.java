/**
 * Metrics whiteboard: bundles register {@link io.backplane.api.metrics.MetricSource} services;
 * the metrics bundle serves what they report in Prometheus' text format.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.backplane.api.metrics;
