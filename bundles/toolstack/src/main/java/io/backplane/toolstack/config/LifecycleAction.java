package io.backplane.toolstack.config;

import java.util.Locale;
import java.util.Optional;

/**
 * What the toolstack does with a domain whose guest shut down, as xl's {@code on_poweroff},
 * {@code on_reboot}, {@code on_watchdog} and {@code on_crash} settings (and libvirt's elements of
 * the same names) say. The value's name in a config is {@link #configName()}.
 */
public enum LifecycleAction {
    /** Destroy the domain: its devices, guest, memory and XenStore entries go. */
    DESTROY,
    /** Destroy it and create it again from the same config: same name, new domain id. */
    RESTART,
    /** Leave it shut down, devices and all, until {@code xl:destroy}. */
    PRESERVE;

    /** The value as written in an xl config ({@code destroy}, {@code restart}, {@code preserve}). */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The action an xl or libvirt value names. Empty for a value xl does not know; xl's values
     * Backplane does not implement throw with the reason.
     */
    public static Optional<LifecycleAction> fromConfig(String value) {
        for (LifecycleAction a : values()) {
            if (a.configName().equals(value)) {
                return Optional.of(a);
            }
        }
        switch (value) {
            case "rename-restart" -> throw new IllegalArgumentException("'rename-restart' is not supported"
                    + " (Backplane restarts under the same name: use 'restart')");
            case "coredump-destroy", "coredump-restart" -> throw new IllegalArgumentException("'" + value
                    + "' is not supported (the simulated hypervisor has no guest memory dump):"
                    + " use '" + value.substring("coredump-".length()) + "'");
            case "soft-reset" -> throw new IllegalArgumentException("'soft-reset' is not supported");
            default -> {
                return Optional.empty();
            }
        }
    }
}
