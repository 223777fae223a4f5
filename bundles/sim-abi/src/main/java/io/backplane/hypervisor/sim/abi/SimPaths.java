package io.backplane.hypervisor.sim.abi;

import java.nio.file.Path;

/**
 * Where the sim keeps a domain: {@code <stateDir>/domains/<domid>/} holding {@link #MEMORY},
 * {@link #GRANT_TABLE}, {@link #EVTCHN_SOCKET} and (created by the XenStore daemon while the
 * domain is introduced) {@link #XENSTORE_SOCKET}.
 */
public record SimPaths(Path stateDir) {

    /** Guest memory: {@code memoryPages * 4096} bytes, frame N at byte offset N * 4096. */
    public static final String MEMORY = "memory";
    /** The domain's grant table: {@code grantFrames * 512} entries of struct grant_entry_v1. */
    public static final String GRANT_TABLE = "grant-table";
    /** The domain's event channel device (Unix stream socket: control connections of {@link EvtchnWire} messages and their 4-byte port event streams). */
    public static final String EVTCHN_SOCKET = "evtchn.sock";
    /** The domain's XenStore connection (xs_wire over a Unix stream socket, unprivileged). */
    public static final String XENSTORE_SOCKET = "xenstore.sock";

    public Path domainsDir() {
        return stateDir.resolve("domains");
    }

    public Path domainDir(int domid) {
        return domainsDir().resolve(Integer.toString(domid));
    }

    public Path memory(int domid) {
        return domainDir(domid).resolve(MEMORY);
    }

    public Path grantTable(int domid) {
        return domainDir(domid).resolve(GRANT_TABLE);
    }

    public Path evtchnSocket(int domid) {
        return domainDir(domid).resolve(EVTCHN_SOCKET);
    }

    public Path xenstoreSocket(int domid) {
        return domainDir(domid).resolve(XENSTORE_SOCKET);
    }
}
