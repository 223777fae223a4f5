package io.backplane.xs.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The xs_wire layout ({@code /usr/include/xen/io/xs_wire.h}): a 16-byte little-endian header
 * {@code struct xsd_sockmsg { u32 type, req_id, tx_id, len; }} followed by {@code len} payload
 * bytes, the message type codes and the size limits. The one place that knows these numbers
 * (XsWireTest checks them against the header with gcc).
 */
public final class XsWire {
    public static final int TYPE_OFFSET = 0;
    public static final int REQ_ID_OFFSET = 4;
    public static final int TX_ID_OFFSET = 8;
    public static final int LEN_OFFSET = 12;
    public static final int HEADER_LENGTH = 16;
    public static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    /** XENSTORE_PAYLOAD_MAX: the largest payload of a request or a reply. */
    public static final int PAYLOAD_MAX = 4096;
    /** XENSTORE_ABS_PATH_MAX: the longest absolute path. */
    public static final int ABS_PATH_MAX = 3072;
    /** XENSTORE_REL_PATH_MAX: the longest path below {@code /local/domain/N/}, and of a special watch path. */
    public static final int REL_PATH_MAX = 2048;

    public static final int CONTROL = 0;
    public static final int DIRECTORY = 1;
    public static final int READ = 2;
    public static final int GET_PERMS = 3;
    public static final int WATCH = 4;
    public static final int UNWATCH = 5;
    public static final int TRANSACTION_START = 6;
    public static final int TRANSACTION_END = 7;
    public static final int INTRODUCE = 8;
    public static final int RELEASE = 9;
    public static final int GET_DOMAIN_PATH = 10;
    public static final int WRITE = 11;
    public static final int MKDIR = 12;
    public static final int RM = 13;
    public static final int SET_PERMS = 14;
    public static final int WATCH_EVENT = 15;
    public static final int ERROR = 16;
    public static final int IS_DOMAIN_INTRODUCED = 17;
    public static final int RESUME = 18;
    public static final int SET_TARGET = 19;
    // 20 was XS_RESTRICT, removed.
    public static final int RESET_WATCHES = 21;
    public static final int DIRECTORY_PART = 22;
    /** XS_TYPE_COUNT of Xen 4.17: types at or above are unknown (ENOSYS). */
    public static final int TYPE_COUNT = 23;

    private static final String[] NAMES = {
        "CONTROL", "DIRECTORY", "READ", "GET_PERMS", "WATCH", "UNWATCH", "TRANSACTION_START",
        "TRANSACTION_END", "INTRODUCE", "RELEASE", "GET_DOMAIN_PATH", "WRITE", "MKDIR", "RM",
        "SET_PERMS", "WATCH_EVENT", "ERROR", "IS_DOMAIN_INTRODUCED", "RESUME", "SET_TARGET",
        "RESTRICT", "RESET_WATCHES", "DIRECTORY_PART"};

    private XsWire() {
    }

    public static String typeName(int type) {
        return type >= 0 && type < NAMES.length ? NAMES[type] : "type " + Integer.toUnsignedString(type);
    }

    /** A whole frame, header and payload, ready to write. */
    public static ByteBuffer frame(int type, int reqId, int txId, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH + payload.length).order(ORDER);
        b.putInt(TYPE_OFFSET, type).putInt(REQ_ID_OFFSET, reqId).putInt(TX_ID_OFFSET, txId)
                .putInt(LEN_OFFSET, payload.length);
        b.position(HEADER_LENGTH);
        b.put(payload);
        return b.flip();
    }

    public static ByteBuffer newHeader() {
        return ByteBuffer.allocate(HEADER_LENGTH).order(ORDER);
    }
}
