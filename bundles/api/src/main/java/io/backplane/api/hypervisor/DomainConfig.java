package io.backplane.api.hypervisor;

/**
 * What the toolstack asks for when it creates a domain.
 *
 * @param name         unique domain name ({@code name=} in an xl config)
 * @param memoryPages  guest memory in 4 KiB pages; frame numbers run from 0 to memoryPages-1
 * @param grantFrames  grant table size in 4 KiB frames of {@code grant_entry_v1} (512 entries
 *                     each; Xen's {@code max_grant_frames}, default 64 in xl)
 */
public record DomainConfig(String name, long memoryPages, int grantFrames) {

    /**
     * Xen's page size (XEN_PAGE_SIZE, 4 KiB whatever the OS page): every frame, grant table frame,
     * granted page, ring page and mapping. The one definition of the page size; use this.
     */
    public static final int PAGE_SIZE = 4096;

    /** xl's default {@code max_grant_frames}. */
    public static final int DEFAULT_GRANT_FRAMES = 64;

    public DomainConfig {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a domain needs a name");
        }
        if (memoryPages < 1) {
            throw new IllegalArgumentException("domain " + name + " needs at least one page of memory");
        }
        if (grantFrames < 1) {
            throw new IllegalArgumentException("domain " + name + " needs at least one grant table frame");
        }
    }

    /** A domain with {@code memoryMiB} of memory and xl's default grant table size. */
    public static DomainConfig ofMiB(String name, long memoryMiB) {
        return new DomainConfig(name, memoryMiB * (1024 * 1024 / PAGE_SIZE), DEFAULT_GRANT_FRAMES);
    }

    /** Number of v1 grant entries ({@code grantFrames * 512}). */
    public int grantEntries() {
        return grantFrames * (PAGE_SIZE / 8);
    }
}
