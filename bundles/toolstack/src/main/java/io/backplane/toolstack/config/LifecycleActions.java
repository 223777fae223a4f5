package io.backplane.toolstack.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * xl's {@code on_poweroff}, {@code on_reboot}, {@code on_watchdog} and {@code on_crash}: what to do
 * when the guest shuts down for each reason. Defaults are xl's: destroy, restart, destroy, destroy.
 */
public record LifecycleActions(LifecycleAction onPoweroff, LifecycleAction onReboot, LifecycleAction onWatchdog,
                               LifecycleAction onCrash) {

    /** The setting names, as in an xl config and as libvirt's element names. */
    public static final String ON_POWEROFF = "on_poweroff";
    public static final String ON_REBOOT = "on_reboot";
    public static final String ON_WATCHDOG = "on_watchdog";
    public static final String ON_CRASH = "on_crash";

    /** xl's defaults. */
    public static final LifecycleActions XL_DEFAULTS = new LifecycleActions(LifecycleAction.DESTROY,
            LifecycleAction.RESTART, LifecycleAction.DESTROY, LifecycleAction.DESTROY);

    public LifecycleActions {
        Objects.requireNonNull(onPoweroff);
        Objects.requireNonNull(onReboot);
        Objects.requireNonNull(onWatchdog);
        Objects.requireNonNull(onCrash);
    }

    /**
     * xl's defaults overridden by what {@code lookup} finds for each setting name. {@code lookup}
     * returns null for a setting that is absent, and reports a bad value itself (it gets the name
     * and the {@link IllegalArgumentException} message to turn into a config error with its line).
     */
    public static LifecycleActions read(BiFunction<String, LifecycleAction, LifecycleAction> lookup) {
        return new LifecycleActions(lookup.apply(ON_POWEROFF, XL_DEFAULTS.onPoweroff),
                lookup.apply(ON_REBOOT, XL_DEFAULTS.onReboot), lookup.apply(ON_WATCHDOG, XL_DEFAULTS.onWatchdog),
                lookup.apply(ON_CRASH, XL_DEFAULTS.onCrash));
    }

    /** Setting name to action, in the order xl documents them. */
    public Map<String, LifecycleAction> asMap() {
        Map<String, LifecycleAction> m = new LinkedHashMap<>();
        m.put(ON_POWEROFF, onPoweroff);
        m.put(ON_REBOOT, onReboot);
        m.put(ON_WATCHDOG, onWatchdog);
        m.put(ON_CRASH, onCrash);
        return m;
    }

    /** Parses one value; {@code IllegalArgumentException} with the reason when it is not one xl's we do. */
    public static LifecycleAction parse(String setting, String value) {
        return LifecycleAction.fromConfig(value).orElseThrow(() -> new IllegalArgumentException("'" + value
                + "' is not an action: " + setting + " takes destroy, restart or preserve"));
    }
}
