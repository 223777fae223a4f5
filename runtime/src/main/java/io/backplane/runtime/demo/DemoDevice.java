package io.backplane.runtime.demo;

/** One PV device of the demo guest, as the shell names it ({@code demo/vif/0}) and where XenStore keeps it. */
record DemoDevice(String domain, int domid, String type, int devid) {

    String name() {
        return domain + "/" + type + "/" + devid;
    }

    String backend() {
        return "/local/domain/0/backend/" + type + "/" + domid + "/" + devid;
    }

    String frontend() {
        return "/local/domain/" + domid + "/device/" + type + "/" + devid;
    }

    /** Where the frontend simulator reports its counters. */
    String stats() {
        return frontend() + "/stats";
    }

    /** The Linux driver that serves this device type, for messages. */
    String driver() {
        return switch (type) {
            case "vif" -> "netback";
            case "vbd" -> "blkback";
            default -> type + " backend";
        };
    }
}
