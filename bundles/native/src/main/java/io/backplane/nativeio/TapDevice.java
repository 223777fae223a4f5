package io.backplane.nativeio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TAP interface opened through /dev/net/tun (IFF_TAP | IFF_NO_PI): every {@link #read} returns
 * one Ethernet frame the host sent into the interface, every {@link #write} hands one frame to
 * the host's network stack. Opened with a virtio header ({@code IFF_VNET_HDR}), each frame both
 * ways is preceded by a {@code struct virtio_net_hdr} (10 bytes) carrying its checksum offload
 * and GSO, and {@link #setOffload} says which of them the reader takes. Further queues, each
 * its own fd, are {@link #attachQueue}d. The interface lives as long as one of its queues is open,
 * unless it is made {@link #setPersistent persistent}: then it stays (with its addresses, MTU and
 * bridge port) after its last queue closes, carrier off, until a process opens the same name
 * again (and attaches to it) or clears the flag.
 */
public final class TapDevice implements AutoCloseable {
    /** _IOW('T', 202, int). */
    private static final long TUNSETIFF = 0x400454caL;
    /** _IOW('T', 203, int). */
    private static final long TUNSETPERSIST = 0x400454cbL;
    /** _IOW('T', 208, unsigned int). */
    private static final long TUNSETOFFLOAD = 0x400454d0L;
    private static final long SIOCGIFFLAGS = 0x8913L;
    private static final long SIOCSIFFLAGS = 0x8914L;
    private static final long SIOCGIFHWADDR = 0x8927L;
    private static final long SIOCSIFHWADDR = 0x8924L;
    /** struct ifreq's ifr_hwaddr (a struct sockaddr): sa_family, then the address in sa_data. */
    private static final int IFR_HWADDR = 16;
    private static final short ARPHRD_ETHER = 1;
    private static final int ETH_ALEN = 6;
    private static final short IFF_TAP = 0x0002;
    private static final short IFF_NO_PI = 0x1000;
    private static final short IFF_VNET_HDR = 0x4000;
    /** TUNSETOFFLOAD flags (linux/if_tun.h): the reader takes partial checksums, TCP segmentation over IPv4/IPv6. */
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    /** One fd per queue: every open with the same name attaches one more queue (linux/if_tun.h). */
    private static final short IFF_MULTI_QUEUE = 0x0100;
    private static final short IFF_UP = 0x1;
    private static final int IFNAMSIZ = 16;
    /** sizeof(struct ifreq) on LP64. */
    private static final int IFREQ_SIZE = 40;
    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;

    private final NativeIo io;
    private final int fd;
    private final String name;
    private final ByteBuffer pollScratch = ByteBuffer.allocateDirect(8);
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The TUNSETIFF flags it was opened with, which every further queue must repeat. */
    private final short flags;

    private TapDevice(NativeIo io, int fd, String name, short flags) {
        this.io = io;
        this.fd = fd;
        this.name = name;
        this.flags = flags;
    }

    static TapDevice open(NativeIo io, String name, boolean vnetHeader) {
        // Multi-queue from the start: a queue can be attached later only to a device created so
        // (with one queue the kernel behaves as without the flag).
        return open(io, name, (short) (IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE | (vnetHeader ? IFF_VNET_HDR : 0)));
    }

    private static TapDevice open(NativeIo io, String name, short flags) {
        if (name == null || name.isEmpty() || name.length() >= IFNAMSIZ) {
            throw new IllegalArgumentException("TAP name '" + name + "' must have 1 to 15 characters");
        }
        // Non-blocking, so a busy reader takes frames with one read(2) each and polls only when
        // the queue is empty (writes to a TAP never wait: its send buffer is unlimited).
        int fd = io.open("/dev/net/tun", Posix.O_RDWR | Posix.O_NONBLOCK, 0);
        try {
            ByteBuffer ifr = ifreq(name);
            ifr.putShort(IFNAMSIZ, flags);
            io.ioctl(fd, TUNSETIFF, ifr);
            return new TapDevice(io, fd, readName(ifr), flags);
        } catch (RuntimeException e) {
            io.close(fd);
            throw e;
        }
    }

    /**
     * Attaches one more queue to this interface (IFF_MULTI_QUEUE, as QEMU's multi-queue TAP
     * does): a new fd of its own, read and written as this one. The kernel spreads frames for the
     * reader over the queues by flow hash and sends a flow's frames to the queue that last wrote
     * one of that flow (tun's automatic queue selection); closing it detaches the queue.
     */
    public TapDevice attachQueue() {
        return open(io, name, flags);
    }

    /** The interface name the kernel gave (the one asked for). */
    public String name() {
        return name;
    }

    /**
     * Which offloads {@link #read} may return (TUNSETOFFLOAD, TUN_F_* flags): without
     * {@link #TUN_F_CSUM} the kernel completes checksums, without TSO it segments, before a frame
     * reaches the reader. Only for a device opened with a virtio header.
     */
    public void setOffload(int tunFlags) {
        io.ioctl(fd, TUNSETOFFLOAD, tunFlags);
    }

    /**
     * TUNSETPERSIST: a persistent interface outlives its last open queue (the next open of its
     * name attaches to it as it is); clearing the flag lets the last close remove it.
     */
    public void setPersistent(boolean persistent) {
        io.ioctl(fd, TUNSETPERSIST, persistent ? 1 : 0);
    }

    /** Sets the interface administratively up or down (SIOCSIFFLAGS, as {@code ip link set up}). */
    public void setUp(boolean up) {
        onInterface((ifr, sock) -> {
            io.ioctl(sock, SIOCGIFFLAGS, ifr);
            short flags = ifr.getShort(IFNAMSIZ);
            ifr.putShort(IFNAMSIZ, (short) (up ? flags | IFF_UP : flags & ~IFF_UP));
            io.ioctl(sock, SIOCSIFFLAGS, ifr);
        });
    }

    /**
     * Sets the interface's own Ethernet address (SIOCSIFHWADDR, as {@code ip link set address});
     * a TAP takes it while up.
     */
    public void setHardwareAddress(byte[] mac) {
        if (mac.length != ETH_ALEN) {
            throw new IllegalArgumentException("an Ethernet address has 6 bytes, not " + mac.length);
        }
        onInterface((ifr, sock) -> {
            ifr.putShort(IFR_HWADDR, ARPHRD_ETHER);
            ifr.put(IFR_HWADDR + 2, mac);
            io.ioctl(sock, SIOCSIFHWADDR, ifr);
        });
    }

    /** The interface's own Ethernet address (SIOCGIFHWADDR). */
    public byte[] hardwareAddress() {
        byte[] mac = new byte[ETH_ALEN];
        onInterface((ifr, sock) -> {
            io.ioctl(sock, SIOCGIFHWADDR, ifr);
            ifr.get(IFR_HWADDR + 2, mac);
        });
        return mac;
    }

    /**
     * Runs {@code requests} with an ifreq naming this interface and an AF_INET socket to issue
     * them on: the interface ioctls (flags, address) are socket ioctls, not the TAP fd's.
     */
    private void onInterface(java.util.function.ObjIntConsumer<ByteBuffer> requests) {
        int sock = io.socket(AF_INET, SOCK_DGRAM, 0);
        try {
            requests.accept(ifreq(name), sock);
        } finally {
            io.close(sock);
        }
    }

    /**
     * Reads one frame into {@code frame} (direct, at its position), waiting at most
     * {@code timeoutMillis} (-1 for ever). Returns the frame length, or 0 on timeout. With 0,
     * one read(2) and no poll: a reader taking what is queued stops at the first EAGAIN.
     */
    public synchronized int read(ByteBuffer frame, int timeoutMillis) {
        int n = io.read(fd, frame);
        if (n >= 0 || timeoutMillis == 0) {
            return Math.max(0, n);
        }
        int revents = io.poll(fd, Posix.POLLIN, timeoutMillis, pollScratch);
        if ((revents & Posix.POLLIN) == 0) {
            if ((revents & (Posix.POLLERR | Posix.POLLHUP)) != 0) {
                throw new NativeException(Errno.EIO, "TAP " + name + " reported an error while reading");
            }
            return 0;
        }
        return Math.max(0, io.read(fd, frame));
    }

    /**
     * Waits at most {@code timeoutMillis} (-1 for ever) until a frame can be read without
     * waiting: true then, false on timeout.
     */
    public synchronized boolean await(int timeoutMillis) {
        int revents = io.poll(fd, Posix.POLLIN, timeoutMillis, pollScratch);
        if ((revents & Posix.POLLIN) == 0 && (revents & (Posix.POLLERR | Posix.POLLHUP)) != 0) {
            throw new NativeException(Errno.EIO, "TAP " + name + " reported an error while reading");
        }
        return (revents & Posix.POLLIN) != 0;
    }

    /**
     * Reads one frame scattered over {@code iov} with one readv(2), without waiting: the kernel
     * fills the pieces in order. Returns the frame's length (with the virtio header), which is
     * more than {@code iov} holds when the frame did not fit (the kernel then stored what fit and
     * dropped the rest), or 0 when no frame waits.
     */
    public synchronized long read(IoVector iov) {
        return Math.max(0, io.readv(fd, iov));
    }

    /** Writes one frame (the buffer's remaining bytes, direct) to the host. */
    public void write(ByteBuffer frame) {
        int len = frame.remaining();
        int n = io.write(fd, frame);
        if (n != len) {
            throw new NativeException(Errno.EIO, "TAP " + name + " took " + n + " of " + len + " bytes of a frame");
        }
    }

    /**
     * Writes one frame given in pieces ({@code iov}: the virtio header, then the frame's parts,
     * which may be a guest's mapped pages) with one writev(2): the kernel gathers them, nothing
     * is copied in this process.
     */
    public void write(IoVector iov) {
        long len = iov.remaining();
        long n = io.writev(fd, iov);
        if (n != len) {
            throw new NativeException(Errno.EIO, "TAP " + name + " took " + n + " of " + len + " bytes of a frame");
        }
    }

    /** Closes the fd; the kernel removes the interface with its last queue unless it is persistent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            io.close(fd);
        }
    }

    private static ByteBuffer ifreq(String name) {
        ByteBuffer ifr = ByteBuffer.allocateDirect(IFREQ_SIZE).order(ByteOrder.nativeOrder());
        ifr.put(0, NativeIo.cString(name, IFNAMSIZ));
        return ifr;
    }

    private static String readName(ByteBuffer ifr) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < IFNAMSIZ && ifr.get(i) != 0; i++) {
            sb.append((char) ifr.get(i));
        }
        return sb.toString();
    }
}
