package io.backplane.api.sink;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The host end of one virtual interface: Ethernet frames without FCS, one call per frame, each
 * preceded both ways by a {@code struct virtio_net_hdr} (Linux include/uapi/linux/virtio_net.h,
 * 10 bytes, little-endian), exactly as a TAP device opened with {@code IFF_VNET_HDR} exchanges
 * them: the header says whether the frame's TCP/UDP checksum is partial (to be completed from
 * {@code csum_start}), already validated, or a TCP GSO frame to be cut into {@code gso_size}
 * segments. {@link #transmit} may be called from several threads (one per queue); {@link #receive}
 * from one.
 */
public interface PacketSink extends AutoCloseable {

    /** The interface name on the host, e.g. {@code vif3.0}. */
    String name();

    /** What it is, in operator words: {@code TAP vif3.0 on bridge xenbr0}, {@code in-memory (loopback)}. */
    String describe();

    /** Hands a frame the guest sent (header and frame: the buffer's remaining bytes, direct) to the host side. */
    void transmit(ByteBuffer frame);

    /**
     * Hands one frame given in pieces: the remaining bytes of {@code parts[from]} to
     * {@code parts[from + count - 1]}, in order, header first (direct buffers; the later pieces
     * may be a guest's mapped pages, which a zero-copy strategy lends until this returns). A sink
     * that can write them with one gathering call (writev on a TAP) does; this default gathers
     * them into one buffer and calls {@link #transmit(ByteBuffer)}.
     */
    default void transmit(ByteBuffer[] parts, int from, int count) {
        int length = 0;
        for (int i = from; i < from + count; i++) {
            length += parts[i].remaining();
        }
        ByteBuffer frame = ByteBuffer.allocateDirect(length);
        for (int i = from; i < from + count; i++) {
            frame.put(parts[i].duplicate());
        }
        transmit(frame.flip());
    }

    /**
     * Waits at most {@code timeoutMillis} for a frame from the host side for the guest and reads
     * its header and the frame into {@code frame} (direct, at its position, room for 10 bytes and
     * a 64 KiB frame). Returns their length, 0 on timeout, -1 once the sink is closed.
     */
    int receive(ByteBuffer frame, int timeoutMillis);

    /**
     * Waits at most {@code timeoutMillis} until a frame for the guest waits, so that
     * {@link #receive(ByteBuffer[], int, int)} takes it without waiting (poll on a TAP): 1 then,
     * 0 on timeout, -1 once the sink is closed. This default cannot tell and returns 1 at once:
     * such a sink's reader finds nothing there and waits in {@link #receive(ByteBuffer, int)}.
     */
    default int awaitFrame(int timeoutMillis) {
        return 1;
    }

    /**
     * Reads the next frame for the guest, without waiting, straight into the caller's buffers
     * (readv on a TAP; for a backend, the guest's own mapped RX pages): its header into
     * {@code parts[from]} (10 bytes remaining), then the frame over {@code parts[from + 1]} ..
     * {@code parts[from + count - 1]} in order, each filled from its position up to its limit
     * before the next (positions are not moved). Returns the length of header and frame, which
     * is more than the parts hold when the frame did not fit: only what fit was stored and the
     * rest is lost, as a TAP's readv does. 0 when no frame waits, -1 once the sink is closed.
     * This default reads into a buffer of its own and copies.
     */
    default int receive(ByteBuffer[] parts, int from, int count) {
        ByteBuffer frame = ByteBuffer.allocateDirect(10 + 0x10000 + 18);
        int n = receive(frame, 0);
        if (n <= 0) {
            return n;
        }
        int at = 0;
        for (int i = from; i < from + count && at < n; i++) {
            int k = Math.min(parts[i].remaining(), n - at);
            parts[i].put(parts[i].position(), frame, at, k);
            at += k;
        }
        return n;
    }

    /**
     * The host end's queues for a backend of {@code count} queues: element K is where the
     * backend's queue K reads the host's frames for the guest and writes the guest's frames;
     * element 0 is this sink. A sink that has queues (a TAP: one fd per queue, IFF_MULTI_QUEUE)
     * returns {@code count} of them, the host choosing each frame's queue by its flow as for a
     * multi-queue NIC, and the caller closes elements 1.. when it is done with them. This default
     * returns this sink alone: its one reader spreads the frames over the backend's queues itself.
     */
    default List<PacketSink> openQueues(int count) {
        return List.of(this);
    }

    /**
     * Which offloads the reader of {@link #receive} takes: partial checksums, and TCP GSO frames
     * over IPv4 and IPv6 (TUNSETOFFLOAD on a TAP). A sink that can, has the host complete or
     * segment what the reader does not take; the reader still copes with any header. Nothing is
     * taken until this is called.
     */
    void acceptOffloads(boolean checksum, boolean tcpv4, boolean tcpv6);

    /** Releases the interface; a blocked {@link #receive} returns -1 soon after. Idempotent. */
    @Override
    void close();

    /**
     * Releases this opening of the interface for a successor (a backend handing its device over):
     * as {@link #close()}, except that a sink able to keep the host's interface (a persistent TAP)
     * leaves it, with its addresses and bridge port, for the next open of the same name. This
     * default closes.
     */
    default void handOver() {
        close();
    }
}
