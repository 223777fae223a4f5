package io.backplane.api.hypervisor;

/**
 * A batch of grant references of one domain mapped as one region (IOCTL_GNTDEV_MAP_GRANT_REF
 * plus mmap). Page {@code i} of the region is the frame granted by {@code refs()[i]}. While it is
 * mapped the granting domain sees GTF_reading (and GTF_writing when writable) in each entry;
 * {@link #close()} unmaps and clears them.
 */
public interface GrantMapping extends MappedRegion {

    /** The grant references, in region order (a copy). */
    int[] refs();
}
