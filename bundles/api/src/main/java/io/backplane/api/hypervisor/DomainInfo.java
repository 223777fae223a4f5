package io.backplane.api.hypervisor;

/**
 * A domain as the hypervisor sees it (the useful part of {@code xc_dominfo_t}).
 *
 * @param shutdownReason the reason the guest gave when {@code state} is {@link DomainState#SHUTDOWN}, else null
 */
public record DomainInfo(int domid, String name, long memoryPages, int grantFrames,
                         DomainState state, ShutdownReason shutdownReason) {
}
