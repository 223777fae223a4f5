package io.backplane.api.xenstore;

/**
 * One permission entry of a node, as xenstored writes it: a letter ({@code r w b n}) followed
 * by a domain id. The first entry of a node's list names its owner and the default access.
 */
public record XsPerm(Access access, int domid) {

    public enum Access {
        NONE('n'), READ('r'), WRITE('w'), BOTH('b');

        private final char letter;

        Access(char letter) {
            this.letter = letter;
        }

        public char letter() {
            return letter;
        }

        public boolean canRead() {
            return this == READ || this == BOTH;
        }

        public boolean canWrite() {
            return this == WRITE || this == BOTH;
        }
    }

    /** Parses {@code "r5"}, {@code "n0"} and the like; throws EINVAL on anything else. */
    public static XsPerm parse(String s) {
        if (s == null || s.length() < 2) {
            throw new XsException(XsError.EINVAL, "bad permission '" + s + "'");
        }
        Access a = switch (s.charAt(0)) {
            case 'n' -> Access.NONE;
            case 'r' -> Access.READ;
            case 'w' -> Access.WRITE;
            case 'b' -> Access.BOTH;
            default -> throw new XsException(XsError.EINVAL, "bad permission '" + s + "'");
        };
        try {
            int domid = Integer.parseInt(s.substring(1));
            if (domid < 0 || domid > 0xFFFF) {
                throw new NumberFormatException();
            }
            return new XsPerm(a, domid);
        } catch (NumberFormatException e) {
            throw new XsException(XsError.EINVAL, "bad domain id in permission '" + s + "'");
        }
    }

    public static XsPerm none(int domid) {
        return new XsPerm(Access.NONE, domid);
    }

    public static XsPerm read(int domid) {
        return new XsPerm(Access.READ, domid);
    }

    @Override
    public String toString() {
        return access.letter() + Integer.toString(domid);
    }
}
