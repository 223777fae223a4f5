package io.backplane.ring;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A file in /dev/shm mapped shared, the way two guest-side and host-side processes share a ring page. */
final class SharedMemoryFile {

    private SharedMemoryFile() {
    }

    /** A fresh, zeroed file of {@code bytes} in /dev/shm (or the temp dir where /dev/shm is missing). */
    static Path create(String prefix, int bytes) throws IOException {
        Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        Path file = Files.createTempFile(dir, prefix, ".ring");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.allocate(bytes), 0);
        }
        return file;
    }

    /** Maps {@code bytes} of an existing file read-write and shared. */
    static MappedByteBuffer map(Path file, int bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
        }
    }
}
