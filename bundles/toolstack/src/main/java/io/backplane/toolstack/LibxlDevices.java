package io.backplane.toolstack;

import io.backplane.api.device.DeviceId;
import io.backplane.toolstack.config.DiskConfig;
import io.backplane.toolstack.config.NicConfig;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The per-type keys, as Xen 4.17's libxl__set_xenstore_nic and device_disk_add write them
 * (as read off a real Xen 4.17 host; docs/toolstack.md). The generic part
 * ({@code frontend}, {@code backend}, {@code frontend-id}, {@code online}, {@code state}) is
 * added by {@link DeviceWriter}, as libxl's generic add does.
 */
final class LibxlDevices {

    private LibxlDevices() {
    }

    static DeviceEntries vif(int domid, NicConfig nic, String mac, Map<String, String> requests) {
        DeviceId id = new DeviceId(nic.backendDomid(), "vif", domid, nic.devid());
        Map<String, String> back = new LinkedHashMap<>();
        back.put("frontend-id", Integer.toString(domid));
        back.put("online", "1");
        back.put("state", "1");
        back.put("script", nic.script());
        back.put("mac", mac);
        nic.ip().ifPresent(ip -> back.put("ip", ip));
        nic.rate().ifPresent(r -> back.put("rate", r));
        nic.mtu().ifPresent(m -> back.put("mtu", Integer.toString(m)));
        back.put("bridge", nic.bridge());
        back.put("handle", Integer.toString(nic.devid()));
        back.put("type", nic.type());
        // Empty until the hotplug script says "connected": netback waits for it before Connected.
        back.put("hotplug-status", "");

        Map<String, String> front = new LinkedHashMap<>();
        front.put("backend-id", Integer.toString(nic.backendDomid()));
        front.put("state", "1");
        front.put("handle", Integer.toString(nic.devid()));
        front.put("mac", mac);
        front.put("trusted", "1");
        Map<String, String> ro = new LinkedHashMap<>();
        ro.put("mtu", Integer.toString(nic.mtu().orElse(1500)));
        return new DeviceEntries(id, front, ro, back, requests);
    }

    static DeviceEntries vbd(int domid, DiskConfig disk, Map<String, String> requests) {
        DeviceId id = new DeviceId(disk.backendDomid(), "vbd", domid, disk.devid());
        Map<String, String> back = new LinkedHashMap<>();
        back.put("params", disk.target());
        back.put("script", disk.script());
        back.put("frontend-id", Integer.toString(domid));
        back.put("online", "1");
        back.put("removable", "0");
        back.put("bootable", "1");
        back.put("state", "1");
        back.put("dev", disk.vdev());
        back.put("type", "phy");
        back.put("mode", disk.readWrite() ? "w" : "r");
        back.put("device-type", disk.cdrom() ? "cdrom" : "disk");
        back.put("discard-enable", disk.discardEnable() ? "1" : "0");
        back.put("specification", "xen");

        Map<String, String> front = new LinkedHashMap<>();
        front.put("backend-id", Integer.toString(disk.backendDomid()));
        front.put("state", "1");
        front.put("virtual-device", Integer.toString(disk.devid()));
        front.put("device-type", disk.cdrom() ? "cdrom" : "disk");
        front.put("trusted", "1");
        return new DeviceEntries(id, front, Map.of(), back, requests);
    }
}
