package io.backplane.api.hypervisor;

import java.nio.ByteBuffer;

/**
 * One GNTTABOP_copy operation (IOCTL_GNTDEV_GRANT_COPY segment): {@code length} bytes from
 * {@code source} to {@code dest}, where each side is either a granted page of another domain
 * or a buffer of this process. A foreign side must stay within its page
 * ({@code offset + length <= 4096}), otherwise the operation fails with GNTST_bad_copy_arg.
 */
public record GrantCopy(Endpoint source, Endpoint dest, int length) {

    public GrantCopy {
        if (source == null || dest == null) {
            throw new IllegalArgumentException("a grant copy needs a source and a destination");
        }
        if (length < 0 || length > DomainConfig.PAGE_SIZE) {
            throw new IllegalArgumentException("grant copy length " + length + " outside 0.." + DomainConfig.PAGE_SIZE);
        }
    }

    /** One side of a copy. */
    public sealed interface Endpoint permits Local, Foreign {
    }

    /**
     * Bytes of this process's buffer starting at {@code offset} (absolute; position is ignored).
     * The buffer must be direct (native memory whose address the kernel is given, as gntdev's
     * copy ioctl takes a virtual address) and writable when it is the destination; otherwise the
     * operation fails with GNTST_bad_virt_addr.
     */
    public record Local(ByteBuffer buffer, int offset) implements Endpoint {
    }

    /** Bytes of the frame {@code domid} granted with {@code ref}, starting at {@code offset} in that page. */
    public record Foreign(int domid, int ref, int offset) implements Endpoint {
    }

    /** Copies from a granted page into a local buffer (netback TX, blkback WRITE). */
    public static GrantCopy fromGrant(int domid, int ref, int offset, ByteBuffer to, int toOffset, int length) {
        return new GrantCopy(new Foreign(domid, ref, offset), new Local(to, toOffset), length);
    }

    /** Copies from a local buffer into a granted page (netback RX, blkback READ). */
    public static GrantCopy toGrant(ByteBuffer from, int fromOffset, int domid, int ref, int offset, int length) {
        return new GrantCopy(new Local(from, fromOffset), new Foreign(domid, ref, offset), length);
    }
}
