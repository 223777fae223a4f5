package io.backplane.toolstack.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * xl's disk spec ({@code xl-disk-configuration(5)}) for what Backplane serves: raw images on the
 * {@code vbd} backend. Keyword form ({@code format=raw, vdev=xvda, access=rw, target=PATH}, where
 * {@code target=} takes the rest of the spec) or positional ({@code PATH,[raw,]xvda,w}, with
 * the legacy {@code phy:}/{@code file:}/{@code aio:}/{@code raw:} prefixes), plus the seed's
 * {@code features=}. A relative target is resolved against the config file's directory.
 */
public final class DiskSpec {

    private static final String KEYS = "target, vdev, format, access, backendtype, devtype, script, "
            + "discard, no-discard, backend, features";

    private DiskSpec() {
    }

    public static DiskConfig parse(String spec, int line, Path baseDir) {
        String target = null;
        String vdev = null;
        String format = null;
        Boolean readWrite = null;
        boolean cdrom = false;
        Boolean discard = null;
        String script = VifSpec.SCRIPT_DIR + "/block";
        int backend = 0;
        Map<String, String> features = new LinkedHashMap<>();
        String rest = spec.trim();
        var t = java.util.regex.Pattern.compile("(^|,)\\s*target=").matcher(rest);
        if (t.find()) {
            target = rest.substring(t.end());
            rest = rest.substring(0, t.start());
        }
        for (String part : rest.split(",")) {
            part = part.trim();
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq > 0) {
                String key = part.substring(0, eq).trim();
                String value = part.substring(eq + 1).trim();
                switch (key) {
                    case "vdev" -> vdev = value;
                    case "format" -> format = format(value);
                    case "access" -> readWrite = access(value);
                    case "backendtype" -> {
                        if (!value.equals("phy")) {
                            throw new IllegalArgumentException("backendtype '" + value
                                    + "': Backplane serves disks with its vbd backend only (backendtype=phy)");
                        }
                    }
                    case "devtype" -> {
                        if (!value.equals("disk") && !value.equals("cdrom")) {
                            throw new IllegalArgumentException("devtype '" + value + "' is not disk or cdrom");
                        }
                        cdrom = value.equals("cdrom");
                    }
                    case "script" -> script = value.startsWith("/") ? value
                            : VifSpec.SCRIPT_DIR + "/" + VifSpec.word(key, value);
                    case "backend" -> backend = (int) VifSpec.number(key, value, 0, 0x7FEF);
                    case "features" -> FeatureRequests.parse(value).forEach((k, v) -> FeatureRequests.put(features, k, v));
                    default -> throw new IllegalArgumentException("unknown disk key '" + key + "' (keys: " + KEYS + ")");
                }
            } else if (part.equals("discard") || part.equals("no-discard")) {
                discard = part.equals("discard");
            } else if (part.equals("cdrom")) {
                cdrom = true;
            } else if (target == null) {
                target = stripPrefix(part);
            } else if (format == null && isFormat(part)) {
                format = format(part);
            } else if (vdev == null) {
                vdev = part;
            } else if (readWrite == null) {
                readWrite = access(part);
            } else {
                throw new IllegalArgumentException("too many positional parameters at '" + part + "'");
            }
        }
        if (target == null || target.isBlank()) {
            throw new IllegalArgumentException("no target (the raw image file)");
        }
        if (vdev == null) {
            throw new IllegalArgumentException("no vdev (the guest's name for the disk, e.g. xvda)");
        }
        int devid = VirtualDevice.devid(vdev);
        if (devid < 0) {
            throw new IllegalArgumentException("vdev '" + vdev + "' is not a disk name libxl knows (xvda, hda, sda, d0p1)");
        }
        Path image = baseDir == null ? Path.of(target) : baseDir.resolve(target);
        image = image.toAbsolutePath().normalize();
        if (!Files.isRegularFile(image)) {
            throw new IllegalArgumentException("disk image " + image + " does not exist or is not a file");
        }
        boolean rw = readWrite == null ? !cdrom : readWrite;
        // libxl: discard-enable defaults to on for writable disks.
        boolean discardEnable = discard == null ? rw : discard;
        return new DiskConfig(image.toString(), vdev, devid, rw, cdrom, script, discardEnable, backend, features, line);
    }

    private static String stripPrefix(String target) {
        for (String p : new String[] {"phy:", "file:", "aio:", "raw:"}) {
            if (target.startsWith(p)) {
                return target.substring(p.length());
            }
        }
        if (target.matches("(qcow2?|vhd|qed|tap2?|tapdisk|ioemu|iscsi|e?nbd|drbd):.*")) {
            throw new IllegalArgumentException("'" + target + "': Backplane serves raw images only");
        }
        return target;
    }

    private static boolean isFormat(String s) {
        return s.matches("raw|qcow2?|vhd|qed|empty");
    }

    private static String format(String value) {
        if (!value.equals("raw")) {
            throw new IllegalArgumentException("format '" + value + "': Backplane serves raw images only");
        }
        return value;
    }

    private static boolean access(String value) {
        return switch (value) {
            case "w", "rw" -> true;
            case "r", "ro" -> false;
            default -> throw new IllegalArgumentException("access '" + value + "' is not r, ro, w or rw");
        };
    }
}
