package io.backplane.backend.command;

import io.backplane.api.backend.BackendDevice;
import io.backplane.api.metrics.MetricSource;
import io.backplane.api.xenstore.XenStore;
import io.backplane.backend.DeviceRegistry;
import io.backplane.backend.DeviceView;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PV devices' numbers for the metrics endpoint, the same the status part of {@code pv:show}
 * prints: each numeric status key becomes {@code backplane_device_<key>} with labels domain,
 * domid, type, devid and, for {@code queue-N/...} keys, queue; {@code backplane_device}
 * (1) carries the states and the ring strategy.
 */
@Component(service = MetricSource.class)
public class DeviceMetrics implements MetricSource {

    private static final Pattern QUEUE_KEY = Pattern.compile("queue-(\\d+)/(.+)");
    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?");

    private final DeviceRegistry registry;
    private final DeviceNames names;

    @Activate
    public DeviceMetrics(@Reference DeviceRegistry registry, @Reference XenStore xenStore) {
        this.registry = registry;
        this.names = new DeviceNames(xenStore, registry);
    }

    @Override
    public void collect(Samples samples) {
        for (DeviceView v : registry.devices()) {
            Map<String, String> device = new LinkedHashMap<>();
            device.put("domain", names.domainName(v.id().frontendDomid()));
            device.put("domid", Integer.toString(v.id().frontendDomid()));
            device.put("type", v.id().type());
            device.put("devid", Integer.toString(v.id().devid()));
            Map<String, String> status = v.status();
            Map<String, String> info = new LinkedHashMap<>(device);
            info.put("backend_state", String.valueOf(v.backend()));
            info.put("frontend_state", String.valueOf(v.frontend()));
            info.put("strategy", status.getOrDefault(BackendDevice.STATUS_STRATEGY, ""));
            samples.sample("device", "a PV device the backends serve (1), its xenbus states and ring strategy in labels", info, 1);
            status.forEach((key, value) -> {
                if (!NUMBER.matcher(value).matches()) {
                    return; // strategy, features, mac, cpus: text, in backplane_device or pv:show
                }
                Map<String, String> labels = new LinkedHashMap<>(device);
                String name = key;
                Matcher queue = QUEUE_KEY.matcher(key);
                if (queue.matches()) {
                    labels.put("queue", queue.group(1));
                    name = queue.group(2);
                }
                samples.sample("device_" + name.replaceAll("[^A-Za-z0-9]", "_"),
                        "the device's " + name + " as pv:show prints it (per queue where it says queue-N/)", labels,
                        Double.parseDouble(value));
            });
        }
    }
}
