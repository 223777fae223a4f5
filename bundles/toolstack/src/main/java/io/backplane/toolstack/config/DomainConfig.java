package io.backplane.toolstack.config;

import java.util.List;
import java.util.Optional;

/**
 * A guest to create: what xl reads from {@code name}, {@code memory}, {@code vcpus},
 * {@code vif}, {@code disk} and the {@code on_*} lifecycle actions, or libvirt from the matching elements.
 *
 * @param source where it came from (file name), for messages
 */
public record DomainConfig(String name, Optional<String> uuid, long memoryMiB, int vcpus,
                           List<NicConfig> nics, List<DiskConfig> disks, LifecycleActions actions, String source) {

    public DomainConfig {
        nics = List.copyOf(nics);
        disks = List.copyOf(disks);
        java.util.Objects.requireNonNull(actions);
    }

    /** A config with xl's default lifecycle actions. */
    public DomainConfig(String name, Optional<String> uuid, long memoryMiB, int vcpus,
                        List<NicConfig> nics, List<DiskConfig> disks, String source) {
        this(name, uuid, memoryMiB, vcpus, nics, disks, LifecycleActions.XL_DEFAULTS, source);
    }
}
