package io.backplane.nativeio;

/** A system call failed; carries errno and says which call on what. */
public class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public NativeException(int errno, String message) {
        super(message);
        this.errno = errno;
    }

    /** The errno the call left. */
    public int errno() {
        return errno;
    }

    /** The symbolic name of {@link #errno()} for the common values, else {@code errno <n>}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
