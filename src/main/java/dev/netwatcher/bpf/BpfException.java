package dev.netwatcher.bpf;

/** A failure of the kernel or libbpf, with a message fit for the user (one line). */
public class BpfException extends RuntimeException {
    private final int errno;

    public BpfException(String message) {
        this(message, 0);
    }

    public BpfException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** Positive errno when the failure came with one, else 0. */
    public int errno() {
        return errno;
    }
}
