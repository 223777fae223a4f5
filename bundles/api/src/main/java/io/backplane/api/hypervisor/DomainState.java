package io.backplane.api.hypervisor;

/** The life of a domain, as {@code xl list} shows it. */
public enum DomainState {
    /** Created and not shut down: its guest may run. */
    RUNNING,
    /** The guest asked to shut down (SCHEDOP_shutdown); the toolstack decides what follows. */
    SHUTDOWN,
    /** Being destroyed: its mappings and channels are being torn down. */
    DYING
}
