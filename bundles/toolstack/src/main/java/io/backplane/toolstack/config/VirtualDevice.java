package io.backplane.toolstack.config;

/**
 * libxl's encoding of a disk's virtual device name into the vbd devid
 * (libxl__device_disk_dev_number): {@code xvdX[N]} is (202 << 8) | disk << 4 | partition while
 * disk and partition fit 4 bits, else (1 << 28) | disk << 8 | partition; {@code hdX[N]} is major 3
 * (hda, hdb) or 22 (hdc, hdd) with 64 minors per disk; {@code sdX[N]} is (8 << 8) | disk << 4 |
 * partition; {@code dNpM} is the xvd form by number; a plain number is taken as it is.
 */
public final class VirtualDevice {

    private VirtualDevice() {
    }

    /** The devid, or -1 when libxl would refuse the name. */
    public static int devid(String vdev) {
        if (vdev == null || vdev.isEmpty()) {
            return -1;
        }
        var dp = java.util.regex.Pattern.compile("d(\\d+)p(\\d+)").matcher(vdev);
        if (dp.matches()) {
            try {
                return xvd(Integer.parseInt(dp.group(1)), Integer.parseInt(dp.group(2)));
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        int[] dpart = match(vdev, "xvd", (1 << 20) - 1, 255);
        if (dpart != null) {
            return xvd(dpart[0], dpart[1]);
        }
        if (vdev.matches("\\d+")) {
            try {
                return Integer.parseInt(vdev);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        dpart = match(vdev, "hd", 3, 63);
        if (dpart != null) {
            return ((dpart[0] < 2 ? 3 : 22) << 8) | ((dpart[0] & 1) << 6) | dpart[1];
        }
        dpart = match(vdev, "sd", 15, 15);
        if (dpart != null) {
            return (8 << 8) | (dpart[0] << 4) | dpart[1];
        }
        return -1;
    }

    private static int xvd(int disk, int partition) {
        if (disk >= (1 << 20) || partition > 255) {
            return -1;
        }
        if (disk <= 15 && partition <= 15) {
            return (202 << 8) | (disk << 4) | partition;
        }
        return (1 << 28) | (disk << 8) | partition;
    }

    /**
     * libxl's device_virtdisk_matches: prefix, disk letters in bijective base 26 ({@code a}=0,
     * {@code z}=25, {@code aa}=26), then an optional partition number without leading zero.
     */
    private static int[] match(String vdev, String prefix, int maxDisk, int maxPartition) {
        if (!vdev.startsWith(prefix)) {
            return null;
        }
        int i = prefix.length();
        long disk = -1;
        while (i < vdev.length() && vdev.charAt(i) >= 'a' && vdev.charAt(i) <= 'z') {
            disk = (disk + 1) * 26 + (vdev.charAt(i) - 'a');
            if (disk > maxDisk) {
                return null;
            }
            i++;
        }
        if (disk < 0) {
            return null;
        }
        int partition = 0;
        if (i < vdev.length()) {
            String p = vdev.substring(i);
            if (!p.matches("[1-9]\\d{0,2}")) {
                return null;
            }
            partition = Integer.parseInt(p);
            if (partition > maxPartition) {
                return null;
            }
        }
        return new int[] {(int) disk, partition};
    }
}
