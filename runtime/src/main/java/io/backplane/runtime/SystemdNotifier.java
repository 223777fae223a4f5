package io.backplane.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import io.backplane.nativeio.NativeException;
import io.backplane.nativeio.NativeIo;
import io.backplane.nativeio.Posix;

/**
 * sd_notify(3) without libsystemd: one datagram per state change ({@code READY=1},
 * {@code STOPPING=1}, {@code STATUS=...}) to the AF_UNIX socket named by {@code NOTIFY_SOCKET},
 * which systemd sets for a {@code Type=notify} service. Java 17's NIO has no Unix datagram
 * sockets, so the socket is made through the native access bundle (jnr-ffi). Without
 * {@code NOTIFY_SOCKET} (not under systemd) every call does nothing.
 */
final class SystemdNotifier {

    static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";
    /** struct sockaddr_un: sa_family_t sun_family (2 bytes), char sun_path[108]. */
    static final int SUN_PATH_OFFSET = 2;
    static final int SUN_PATH_LENGTH = 108;

    private final String socket;
    private final NativeIo io;

    private SystemdNotifier(String socket, NativeIo io) {
        this.socket = socket;
        this.io = io;
    }

    /** The notifier for this process's environment; a no-op when NOTIFY_SOCKET is unset. */
    static SystemdNotifier fromEnvironment(Map<String, String> env) {
        String socket = env.get(NOTIFY_SOCKET);
        return new SystemdNotifier(socket == null || socket.isEmpty() ? null : socket, socket == null ? null : new NativeIo());
    }

    boolean enabled() {
        return socket != null;
    }

    /**
     * Sends one notification, lines like {@code READY=1}; a failure is returned as a message
     * (the service runs on; systemd then says it never became ready), null on success.
     */
    String send(String... assignments) {
        if (socket == null) {
            return null;
        }
        byte[] text = String.join("\n", assignments).getBytes(StandardCharsets.UTF_8);
        int fd = -1;
        try {
            fd = io.socket(Posix.AF_UNIX, Posix.SOCK_DGRAM, 0);
            ByteBuffer message = ByteBuffer.allocateDirect(text.length).put(text).flip();
            io.connect(fd, address(socket));
            io.write(fd, message);
            return null;
        } catch (NativeException | IllegalArgumentException e) {
            return "cannot notify systemd at " + socket + ": " + e.getMessage();
        } finally {
            if (fd >= 0) {
                io.close(fd);
            }
        }
    }

    /**
     * A sockaddr_un for {@code path}; a leading '@' names the abstract namespace (a NUL byte
     * there, and the address ends with the name, no terminating NUL).
     */
    static ByteBuffer address(String path) {
        boolean abstractName = path.startsWith("@");
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (abstractName) {
            name[0] = 0;
        }
        int length = name.length + (abstractName ? 0 : 1);
        if (!abstractName && !path.startsWith("/") || length > SUN_PATH_LENGTH) {
            throw new IllegalArgumentException(NOTIFY_SOCKET + "=" + path + " is not an absolute socket path or @name"
                    + " of at most " + (SUN_PATH_LENGTH - 1) + " bytes");
        }
        ByteBuffer address = ByteBuffer.allocateDirect(SUN_PATH_OFFSET + length).order(ByteOrder.nativeOrder());
        address.putShort((short) Posix.AF_UNIX).put(name);
        if (!abstractName) {
            address.put((byte) 0);
        }
        return address.flip();
    }
}
