package io.backplane.api.hypervisor;

/**
 * A grant map was refused. {@link #status()} is the GNTST code Xen returns for that grant
 * reference, {@link #ref()} the first reference of the batch that failed.
 */
public class GrantException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final GrantStatus status;
    private final int domid;
    private final int ref;

    public GrantException(GrantStatus status, int domid, int ref, String message) {
        super("GNTST_" + status.name().toLowerCase(java.util.Locale.ROOT) + " (" + status.code()
                + ") for grant ref " + ref + " of domain " + domid + ": " + message);
        this.status = status;
        this.domid = domid;
        this.ref = ref;
    }

    public GrantStatus status() {
        return status;
    }

    public int domid() {
        return domid;
    }

    public int ref() {
        return ref;
    }
}
