package io.backplane.metrics;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Backplane metrics",
        description = "The Prometheus text endpoint: per device counters (as pv:show), per domain XenStore use, the JVM.")
@interface MetricsConfig {

    @AttributeDefinition(name = "Address", description = "HOST:PORT the endpoint listens on, serving /metrics "
            + "(e.g. 127.0.0.1:9464); empty: off. Nothing authenticates a scrape: keep it on localhost or a "
            + "management network.")
    String address() default "";
}
