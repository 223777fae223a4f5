package io.backplane.toolstack;

import io.backplane.api.backend.BlkifKeys;
import io.backplane.api.backend.NetifKeys;
import io.backplane.api.backend.XenbusKeys;
import io.backplane.api.backend.XenbusState;
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
        back.put(XenbusKeys.FRONTEND_ID, Integer.toString(domid));
        back.put(XenbusKeys.ONLINE, "1");
        back.put(XenbusKeys.STATE, XenbusState.INITIALISING.wire());
        back.put("script", nic.script());
        back.put(NetifKeys.MAC, mac);
        nic.ip().ifPresent(ip -> back.put("ip", ip));
        nic.rate().ifPresent(r -> back.put(NetifKeys.RATE, r));
        nic.mtu().ifPresent(m -> back.put(NetifKeys.MTU, Integer.toString(m)));
        back.put(NetifKeys.BRIDGE, nic.bridge());
        back.put(XenbusKeys.HANDLE, Integer.toString(nic.devid()));
        back.put("type", nic.type());
        // Empty until the hotplug script says "connected": netback waits for it before Connected.
        back.put(XenbusKeys.HOTPLUG_STATUS, "");

        Map<String, String> front = new LinkedHashMap<>();
        front.put(XenbusKeys.BACKEND_ID, Integer.toString(nic.backendDomid()));
        front.put(XenbusKeys.STATE, XenbusState.INITIALISING.wire());
        front.put(XenbusKeys.HANDLE, Integer.toString(nic.devid()));
        front.put(NetifKeys.MAC, mac);
        front.put("trusted", "1");
        Map<String, String> ro = new LinkedHashMap<>();
        ro.put(NetifKeys.MTU, Integer.toString(nic.mtu().orElse(1500)));
        return new DeviceEntries(id, front, ro, back, requests);
    }

    static DeviceEntries vbd(int domid, DiskConfig disk, Map<String, String> requests) {
        DeviceId id = new DeviceId(disk.backendDomid(), "vbd", domid, disk.devid());
        Map<String, String> back = new LinkedHashMap<>();
        back.put(BlkifKeys.PARAMS, disk.target());
        back.put("script", disk.script());
        back.put(XenbusKeys.FRONTEND_ID, Integer.toString(domid));
        back.put(XenbusKeys.ONLINE, "1");
        back.put(BlkifKeys.REMOVABLE, "0");
        back.put("bootable", "1");
        back.put(XenbusKeys.STATE, XenbusState.INITIALISING.wire());
        back.put("dev", disk.vdev());
        back.put("type", "phy");
        back.put(BlkifKeys.MODE, disk.readWrite() ? "w" : "r");
        back.put(BlkifKeys.DEVICE_TYPE, disk.cdrom() ? "cdrom" : "disk");
        back.put(BlkifKeys.DISCARD_ENABLE, disk.discardEnable() ? "1" : "0");
        back.put("specification", "xen");

        Map<String, String> front = new LinkedHashMap<>();
        front.put(XenbusKeys.BACKEND_ID, Integer.toString(disk.backendDomid()));
        front.put(XenbusKeys.STATE, XenbusState.INITIALISING.wire());
        front.put(BlkifKeys.VIRTUAL_DEVICE, Integer.toString(disk.devid()));
        front.put(BlkifKeys.DEVICE_TYPE, disk.cdrom() ? "cdrom" : "disk");
        front.put("trusted", "1");
        return new DeviceEntries(id, front, Map.of(), back, requests);
    }
}
