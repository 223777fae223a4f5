package io.backplane.xenstore.store;

/** Told when a domain is introduced or released, e.g. to create or remove its socket. */
public interface DomainListener {
    void domainIntroduced(int domid);

    void domainReleased(int domid);
}
