package dev.netwatcher.kernel;

import java.util.Map;

/** errno names of Linux x86-64 (asm-generic/errno-base.h, errno.h) that sockets report. */
public final class Errno {
    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(1, "EPERM"), Map.entry(2, "ENOENT"), Map.entry(4, "EINTR"), Map.entry(5, "EIO"),
            Map.entry(11, "EAGAIN"), Map.entry(12, "ENOMEM"), Map.entry(13, "EACCES"), Map.entry(22, "EINVAL"),
            Map.entry(24, "EMFILE"), Map.entry(32, "EPIPE"), Map.entry(71, "EPROTO"), Map.entry(90, "EMSGSIZE"),
            Map.entry(97, "EAFNOSUPPORT"), Map.entry(98, "EADDRINUSE"), Map.entry(99, "EADDRNOTAVAIL"),
            Map.entry(100, "ENETDOWN"), Map.entry(101, "ENETUNREACH"), Map.entry(102, "ENETRESET"),
            Map.entry(103, "ECONNABORTED"), Map.entry(104, "ECONNRESET"), Map.entry(105, "ENOBUFS"),
            Map.entry(107, "ENOTCONN"), Map.entry(110, "ETIMEDOUT"), Map.entry(111, "ECONNREFUSED"),
            Map.entry(112, "EHOSTDOWN"), Map.entry(113, "EHOSTUNREACH"), Map.entry(114, "EALREADY"),
            Map.entry(115, "EINPROGRESS"), Map.entry(121, "EREMOTEIO"), Map.entry(125, "ECANCELED"));

    private Errno() {}

    public static String name(int errno) {
        int e = Math.abs(errno);
        return NAMES.getOrDefault(e, "E" + e);
    }
}
