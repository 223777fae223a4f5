package io.backplane.ring;

/**
 * The netif TX requests the cross-process tests exchange: request number {@code seq} carries
 * fields derived from {@code seq}, so the backend can check every field of every request and the
 * frontend every response. src/test/c/tx_pattern.h computes the same values for the C programs.
 */
final class TxPattern {

    private TxPattern() {
    }

    static int id(int seq) {
        return seq & 0xffff;
    }

    static int gref(int seq) {
        return seq * 0x9e3779b1;
    }

    static int offset(int seq) {
        return (seq * 13) & 0xfff;
    }

    static int flags(int seq) {
        return (seq >>> 4) & 0xf;
    }

    static int size(int seq) {
        return (seq * 7 + 60) & 0xffff;
    }

    static void fill(NetifTxRequest req, int seq) {
        req.id = id(seq);
        req.gref = gref(seq);
        req.offset = offset(seq);
        req.flags = flags(seq);
        req.size = size(seq);
    }

    static boolean matches(NetifTxRequest req, int seq) {
        return req.id == id(seq) && req.gref == gref(seq) && req.offset == offset(seq)
                && req.flags == flags(seq) && req.size == size(seq);
    }
}
