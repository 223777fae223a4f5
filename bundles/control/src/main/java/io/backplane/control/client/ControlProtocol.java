package io.backplane.control.client;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Layout of the control socket protocol: a Unix stream of frames, each
 * {@code [type: 1 byte][length: 4 bytes big-endian][payload: length bytes]}.
 * <ul>
 * <li>client to server: {@link #COMMAND}, payload the UTF-8 Gogo command line; or
 * {@link #DIRECTORY}, payload the client's absolute working directory (UTF-8), against which the
 * session's later commands resolve relative file names; answered by a STATUS frame alone
 * (0, or 1 after a STDERR frame saying why it was refused);</li>
 * <li>server to client, per command, in order: any number of {@link #STDOUT} and {@link #STDERR}
 * frames (raw output bytes, streamed as the command writes them), then exactly one
 * {@link #STATUS} frame whose 4-byte payload is the exit status (0 = success).</li>
 * </ul>
 * A connection carries any number of commands one after the other and shares one Gogo session,
 * so session variables survive between commands. Closing the connection interrupts the
 * command that is running (that is how a streaming command such as a watch is stopped).
 */
public final class ControlProtocol {

    public static final byte COMMAND = 'C';
    public static final byte DIRECTORY = 'D';
    public static final byte STDOUT = 'O';
    public static final byte STDERR = 'E';
    public static final byte STATUS = 'S';

    /** Largest payload either side accepts; a longer frame is a protocol error. */
    public static final int MAX_PAYLOAD = 1 << 20;

    /** File name of the socket inside the state directory. */
    public static final String SOCKET_NAME = "control.sock";

    private static final int HEADER = 5;

    private ControlProtocol() {
    }

    /** A frame as read from the stream. */
    public record Frame(byte type, byte[] payload) {
        public int status() {
            return ByteBuffer.wrap(payload).getInt();
        }
    }

    public static void write(WritableByteChannel channel, byte type, byte[] payload, int offset, int length)
            throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(HEADER + length);
        frame.put(type).putInt(length).put(payload, offset, length).flip();
        while (frame.hasRemaining()) {
            channel.write(frame);
        }
    }

    public static void write(WritableByteChannel channel, byte type, byte[] payload) throws IOException {
        write(channel, type, payload, 0, payload.length);
    }

    public static void writeStatus(WritableByteChannel channel, int status) throws IOException {
        write(channel, STATUS, ByteBuffer.allocate(4).putInt(status).array());
    }

    /**
     * Reads one frame.
     *
     * @return the frame, or null when the peer closed the stream cleanly between frames
     * @throws IOException on a truncated frame or a length beyond {@link #MAX_PAYLOAD}
     */
    public static Frame read(ReadableByteChannel channel) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        if (!fill(channel, header, true)) {
            return null;
        }
        header.flip();
        byte type = header.get();
        int length = header.getInt();
        if (length < 0 || length > MAX_PAYLOAD) {
            throw new IOException("control frame of " + Integer.toUnsignedString(length)
                    + " bytes exceeds the limit of " + MAX_PAYLOAD);
        }
        ByteBuffer payload = ByteBuffer.allocate(length);
        fill(channel, payload, false);
        return new Frame(type, payload.array());
    }

    private static boolean fill(ReadableByteChannel channel, ByteBuffer buffer, boolean eofAllowedAtStart)
            throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                if (eofAllowedAtStart && buffer.position() == 0) {
                    return false;
                }
                throw new EOFException("control connection closed in the middle of a frame");
            }
        }
        return true;
    }
}
