package io.backplane.hypervisor.sim.abi;

/**
 * The message of a domain's event channel socket: 16 bytes, little-endian, in both directions.
 * <pre>
 * struct sim_evtchn_msg {
 *     uint32_t op;      // OP_* ; a reply carries the request's op | REPLY
 *     uint32_t port;    // the port the message is about (local to the domain)
 *     uint32_t arg;     // remote domid, shutdown reason, ... (per op)
 *     int32_t  result;  // replies: >= 0 success (a port for the bind ops), < 0 a negative errno
 * };
 * </pre>
 * Requests with a reply: BIND_UNBOUND, BIND_INTERDOMAIN, CLOSE, SHUTDOWN, STATUS, STREAM_TOKEN,
 * ATTACH_STREAM (one outstanding at a time per connection). NOTIFY is answered only when it fails.
 * Events do not travel on the control connection: each control connection has one event stream, a
 * second connection joined with ATTACH_STREAM, on which only {@link #PORT_LENGTH}-byte port numbers
 * flow, exactly as on Linux's /dev/xen/evtchn: read = a delivered port (now masked), write = unmask.
 */
public final class EvtchnWire {
    public static final int MESSAGE_LENGTH = 16;
    public static final int OP_OFFSET = 0;
    public static final int PORT_OFFSET = 4;
    public static final int ARG_OFFSET = 8;
    public static final int RESULT_OFFSET = 12;

    /** arg = remote domid; reply result = new local port, unbound, offered to that domain. */
    public static final int OP_BIND_UNBOUND = 1;
    /** port = remote port, arg = remote domid; reply result = new local port bound to it. */
    public static final int OP_BIND_INTERDOMAIN = 2;
    /** port: raise the remote end. Reply only on failure. */
    public static final int OP_NOTIFY = 3;
    // 4 was UNMASK: unmasking is now a port number written to the event stream.
    /** port: EVTCHNOP_close; reply result 0. */
    public static final int OP_CLOSE = 5;
    /** arg = SHUTDOWN_* reason (xen/sched.h): the guest shuts itself down; reply result 0. */
    public static final int OP_SHUTDOWN = 6;
    /**
     * port: the hypervisor's mask and pending bits of that port, as a guest kernel reads them in
     * shared_info's evtchn_mask / evtchn_pending; reply result = STATUS_MASKED | STATUS_PENDING bits.
     */
    public static final int OP_STATUS = 7;
    /** Control connection: reply result = the one-time token (> 0) its event stream attaches with. */
    public static final int OP_STREAM_TOKEN = 8;
    /**
     * First message of a new connection, arg = token: the connection becomes the event stream of
     * the control connection that got the token; reply result 0, then only port numbers flow.
     */
    public static final int OP_ATTACH_STREAM = 9;
    /** STATUS reply bit: delivered and not unmasked yet (no delivery until the port is written back). */
    public static final int STATUS_MASKED = 1;
    /** STATUS reply bit: notified while masked; delivered right after the unmask. */
    public static final int STATUS_PENDING = 2;
    /** Length of one port number on the event stream (uint32_t, native byte order). */
    public static final int PORT_LENGTH = 4;
    /** Set in the op of every reply. */
    public static final int REPLY = 0x80;

    /** Ports run from 1 to MAX_PORTS - 1 (port 0 is never valid, as in Xen). */
    public static final int MAX_PORTS = 4096;

    private EvtchnWire() {
    }
}
