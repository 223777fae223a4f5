package io.backplane.api.hypervisor;

import java.util.Collection;
import java.util.List;

/**
 * dom0's access to pages other domains granted to it, the way a Linux backend uses
 * {@code /dev/xen/gntdev}: map a batch of grant references as one region, or copy through
 * grants without mapping (GNTTABOP_copy).
 *
 * <p>Both follow Xen's checks on the granting domain's {@code grant_entry_v1}: the entry must be
 * GTF_permit_access for this domain, GTF_readonly forbids a writable use, and the frame must be
 * the guest's. Refusals carry the GNTST code Xen gives: GNTST_bad_domain for an unknown domain,
 * GNTST_bad_gntref for a reference beyond the table, GNTST_general_error for a wrong grantee,
 * type or a read-only entry, GNTST_bad_page for a frame the domain does not own.
 */
public interface GrantTables {

    /**
     * Maps {@code refs} of {@code domid} as one contiguous region (page i = refs[i]). All or
     * nothing: when one reference is refused, the ones already pinned are released and a
     * {@link GrantException} names the first refused reference and its GNTST code.
     */
    GrantMapping map(int domid, int[] refs, boolean writable);

    /** Unmaps several mappings in one go (the lazily batched unmap); same as closing each. */
    default void unmap(Collection<? extends GrantMapping> mappings) {
        for (GrantMapping m : mappings) {
            m.close();
        }
    }

    /**
     * Runs a batch of copies, each checked and performed on its own like GNTTABOP_copy:
     * {@code status[i]} receives the GNTST code of {@code ops.get(i)}; a failed operation does not
     * stop the others. {@code status} must hold at least {@code ops.size()} entries.
     */
    void copy(List<GrantCopy> ops, int[] status);
}
