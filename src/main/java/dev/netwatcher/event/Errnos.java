package dev.netwatcher.event;

/** Names of the errno values a TCP socket ends with (sk_err). */
public final class Errnos {
    private Errnos() {}

    public static String name(int errno) {
        return switch (Math.abs(errno)) {
            case 32 -> "EPIPE";
            case 101 -> "ENETUNREACH";
            case 103 -> "ECONNABORTED";
            case 104 -> "ECONNRESET";
            case 110 -> "ETIMEDOUT";
            case 111 -> "ECONNREFUSED";
            case 113 -> "EHOSTUNREACH";
            default -> "errno " + Math.abs(errno);
        };
    }
}
