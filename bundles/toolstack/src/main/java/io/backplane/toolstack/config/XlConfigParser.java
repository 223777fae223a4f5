package io.backplane.toolstack.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads an xl domain config into a {@link DomainConfig}. Uses {@code name}, {@code uuid},
 * {@code memory}, {@code vcpus}, {@code vif}, {@code disk} and {@code on_poweroff},
 * {@code on_reboot}, {@code on_watchdog}, {@code on_crash}; other xl settings ({@code kernel},
 * ...) are accepted and left alone, as they concern the domain builder.
 */
public final class XlConfigParser {

    private XlConfigParser() {
    }

    /** {@code baseDir} resolves relative disk targets (the config file's directory). */
    public static DomainConfig parse(String source, String text, Path baseDir) {
        Map<String, XlCfgReader.Setting> s = XlCfgReader.read(source, text);
        String name = DomainNames.check(source, requiredString(source, s, "name"));
        Optional<String> uuid = optionalString(source, s, "uuid");
        if (uuid.isPresent() && !uuid.get().matches("(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")) {
            throw new ConfigException(source, s.get("uuid").line(), "uuid '" + uuid.get() + "' is not a UUID");
        }
        long memory = number(source, s, "memory", 128, 16, 1L << 24);
        int vcpus = (int) number(source, s, "vcpus", 1, 1, 128);

        List<NicConfig> nics = new ArrayList<>();
        List<XlCfgReader.Item> vifs = list(source, s, "vif");
        for (int i = 0; i < vifs.size(); i++) {
            XlCfgReader.Item item = vifs.get(i);
            try {
                nics.add(VifSpec.parse(item.text(), item.line()));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source, item.line(), "vif " + i + ": " + e.getMessage());
            }
        }
        List<DiskConfig> disks = new ArrayList<>();
        List<XlCfgReader.Item> ds = list(source, s, "disk");
        for (int i = 0; i < ds.size(); i++) {
            XlCfgReader.Item item = ds.get(i);
            try {
                disks.add(DiskSpec.parse(item.text(), item.line(), baseDir));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source, item.line(), "disk " + i + ": " + e.getMessage());
            }
        }
        DomainDevices.check(source, nics, disks);
        LifecycleActions actions = LifecycleActions.read((key, def) -> {
            if (!s.containsKey(key)) {
                return def;
            }
            String value = optionalString(source, s, key).orElseThrow();
            try {
                return LifecycleActions.parse(key, value);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source, s.get(key).line(), key + ": " + e.getMessage());
            }
        });
        return new DomainConfig(name, uuid, memory, vcpus, DomainDevices.numberNics(nics), disks, actions, source);
    }

    private static String requiredString(String source, Map<String, XlCfgReader.Setting> s, String key) {
        return optionalString(source, s, key)
                .orElseThrow(() -> new ConfigException(source, 0, "no '" + key + "' setting"));
    }

    private static Optional<String> optionalString(String source, Map<String, XlCfgReader.Setting> s, String key) {
        XlCfgReader.Setting v = s.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v.list() != null || !v.scalar().quoted()) {
            throw new ConfigException(source, v.line(), "'" + key + "' must be a \"string\"");
        }
        return Optional.of(v.scalar().text());
    }

    private static long number(String source, Map<String, XlCfgReader.Setting> s, String key, long def,
                               long min, long max) {
        XlCfgReader.Setting v = s.get(key);
        if (v == null) {
            return def;
        }
        if (v.list() != null || v.scalar().quoted() || !v.scalar().text().matches("\\d+")) {
            throw new ConfigException(source, v.line(), "'" + key + "' must be a whole number");
        }
        try {
            long n = Long.parseLong(v.scalar().text());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new ConfigException(source, v.line(), "'" + key + "' = " + v.scalar().text()
                + " is outside " + min + ".." + max);
    }

    private static List<XlCfgReader.Item> list(String source, Map<String, XlCfgReader.Setting> s, String key) {
        XlCfgReader.Setting v = s.get(key);
        if (v == null) {
            return List.of();
        }
        if (v.list() == null) {
            throw new ConfigException(source, v.line(), "'" + key + "' must be a list: " + key + " = [ \"...\" ]");
        }
        for (XlCfgReader.Item i : v.list()) {
            if (!i.quoted()) {
                throw new ConfigException(source, i.line(), "'" + key + "' entries must be \"strings\"");
            }
        }
        return v.list();
    }
}
