package io.backplane.xenstore.store;

import io.backplane.api.xenstore.XsError;
import io.backplane.api.xenstore.XsException;
import io.backplane.xs.wire.XsWire;

/** Node names as C xenstored checks them ({@code is_valid_nodename}, {@code canonicalize}). */
final class Paths {
    static final String INTRODUCE_DOMAIN = "@introduceDomain";
    static final String RELEASE_DOMAIN = "@releaseDomain";

    private Paths() {
    }

    static String domainPath(int domid) {
        return "/local/domain/" + domid;
    }

    /** Makes a relative path absolute under the connection's home; EINVAL when not a valid name. */
    static String canonical(int homeDomid, String path) {
        if (path == null || path.isEmpty()) {
            throw new XsException(XsError.EINVAL, "empty path");
        }
        String abs = path.startsWith("/") ? path : domainPath(homeDomid) + "/" + path;
        if (!isValid(abs)) {
            throw new XsException(XsError.EINVAL, "invalid path '" + path + "'");
        }
        return abs;
    }

    static boolean isSpecial(String path) {
        return path.equals(INTRODUCE_DOMAIN) || path.equals(RELEASE_DOMAIN);
    }

    static boolean isValid(String abs) {
        if (!abs.startsWith("/") || abs.length() > XsWire.ABS_PATH_MAX) {
            return false;
        }
        if (abs.length() > 1 && abs.endsWith("/") || abs.contains("//")) {
            return false;
        }
        if (abs.length() - localOffset(abs) > XsWire.REL_PATH_MAX) {
            return false;
        }
        return validChars(abs);
    }

    static boolean validChars(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '/' || c == '_' || c == '@';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Length of a leading {@code /local/domain/N/}, which the relative-length limit does not count. */
    private static int localOffset(String abs) {
        String prefix = "/local/domain/";
        if (!abs.startsWith(prefix)) {
            return 0;
        }
        int i = prefix.length();
        int digits = 0;
        while (i < abs.length() && Character.isDigit(abs.charAt(i)) && digits < 5) {
            i++;
            digits++;
        }
        return digits > 0 && i < abs.length() && abs.charAt(i) == '/' ? i + 1 : 0;
    }

    static String parent(String abs) {
        int slash = abs.lastIndexOf('/');
        return slash <= 0 ? "/" : abs.substring(0, slash);
    }

    static String basename(String abs) {
        return abs.substring(abs.lastIndexOf('/') + 1);
    }

    static String child(String parent, String name) {
        return parent.equals("/") ? "/" + name : parent + "/" + name;
    }

    /** C's {@code is_child}: {@code child} is {@code parent} or lies below it. */
    static boolean isChild(String child, String parent) {
        if (parent.equals("/")) {
            return true;
        }
        return child.equals(parent) || child.startsWith(parent) && child.charAt(parent.length()) == '/';
    }
}
