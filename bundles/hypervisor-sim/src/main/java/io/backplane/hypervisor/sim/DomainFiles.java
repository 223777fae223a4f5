package io.backplane.hypervisor.sim;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Creates a domain's directory and files with the modes that keep guests apart: the domains
 * directory 0711 (enter, not list), each domain's directory 0700 and its files and sockets 0600,
 * owned by the guest's uid when one is configured (dom0 runs as root and passes anyway).
 */
final class DomainFiles {
    private final int uid;
    private final int gid;

    /** {@code uid}/{@code gid} -1: leave the creating user as owner. */
    DomainFiles(int uid, int gid) {
        this.uid = uid;
        this.gid = gid;
    }

    static void ensureDomainsDir(Path domainsDir) throws IOException {
        Files.createDirectories(domainsDir);
        Files.setPosixFilePermissions(domainsDir, PosixFilePermissions.fromString("rwx--x--x"));
    }

    void createDir(Path dir) throws IOException {
        if (Files.exists(dir)) {
            removeTree(dir); // left over from a runtime that did not stop cleanly
        }
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        own(dir);
    }

    /** A zero-filled (sparse) file of {@code bytes}, mode 0600. */
    void createFile(Path file, long bytes) throws IOException {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes);
        }
        own(file);
    }

    /** Mode 0600 and the guest's ownership for a socket just bound. */
    void restrict(Path path) throws IOException {
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        own(path);
    }

    static void removeTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private void own(Path path) throws IOException {
        if (uid >= 0) {
            Files.setAttribute(path, "unix:uid", uid);
        }
        if (gid >= 0) {
            Files.setAttribute(path, "unix:gid", gid);
        }
    }
}
