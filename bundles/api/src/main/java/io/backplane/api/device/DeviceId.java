package io.backplane.api.device;

/**
 * One PV device, named as XenStore names it: the backend domain, the device type ({@code vif},
 * {@code vbd}, ...), the frontend (guest) domain and the device id ({@code handle} for a vif,
 * the encoded virtual device number for a vbd, e.g. 51712 for xvda).
 */
public record DeviceId(int backendDomid, String type, int frontendDomid, int devid) {

    public DeviceId {
        if (type == null || !type.matches("[a-z0-9]+")) {
            throw new IllegalArgumentException("bad device type '" + type + "'");
        }
        if (backendDomid < 0 || backendDomid > 0x7FEF || frontendDomid < 0 || frontendDomid > 0x7FEF) {
            throw new IllegalArgumentException("domain id out of range in " + type + " device");
        }
        if (devid < 0) {
            throw new IllegalArgumentException("negative devid " + devid);
        }
    }

    /** {@code /local/domain/<backend>/backend/<type>/<frontend>/<devid>}. */
    public String backendPath() {
        return "/local/domain/" + backendDomid + "/backend/" + type + "/" + frontendDomid + "/" + devid;
    }

    /** {@code /local/domain/<frontend>/device/<type>/<devid>}. */
    public String frontendPath() {
        return "/local/domain/" + frontendDomid + "/device/" + type + "/" + devid;
    }

    /**
     * Parses a backend path ({@code /local/domain/0/backend/vif/3/0}, or anything below it).
     * Throws IllegalArgumentException when the path is not inside a backend device directory.
     */
    public static DeviceId fromBackendPath(String path) {
        String[] p = path.split("/");
        // "", local, domain, <bdom>, backend, <type>, <fdom>, <devid>, ...
        if (p.length < 8 || !p[0].isEmpty() || !"local".equals(p[1]) || !"domain".equals(p[2])
                || !"backend".equals(p[4])) {
            throw new IllegalArgumentException("not a backend device path: " + path);
        }
        try {
            return new DeviceId(Integer.parseInt(p[3]), p[5], Integer.parseInt(p[6]), Integer.parseInt(p[7]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a backend device path: " + path);
        }
    }

    /** Operator form used in logs and shell commands: {@code 3/vif/0}. */
    @Override
    public String toString() {
        return frontendDomid + "/" + type + "/" + devid;
    }
}
