package dev.netwatcher.sink;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * The log folder of a process that runs as root and writes what other users' traffic
 * carries (HTTP paths, DNS names, process names). Nobody else may steer where that goes
 * or read it:
 * <ul>
 * <li>every folder on the path, as written and as resolved, belongs to root, to the
 * process's own user or to the user who ran sudo ({@code SUDO_UID}), and is writable by
 * no one else (a sticky world-writable folder such as /tmp is accepted above the log
 * folder, as sshd's StrictModes does: others cannot rename or delete what root made
 * there); a symbolic link on the path must belong to one of those users too;</li>
 * <li>the log folder itself is not group- or world-writable without the sticky bit;</li>
 * <li>a new folder is made 0700 and a new file 0600 whatever the umask; a file is created
 * exclusively ({@code O_CREAT|O_EXCL}), an existing one is opened with {@code O_NOFOLLOW}
 * and must be a regular file of the process's own user with one link, and is set to 0600.</li>
 * </ul>
 * Each refusal is an {@link Unsafe} with a one-line reason.
 */
public final class LogFolder {
    private static final int S_IFMT = 0170000, S_IFREG = 0100000, S_IFDIR = 0040000, S_IFLNK = 0120000;
    private static final int S_ISVTX = 01000, S_IWGRP = 020, S_IWOTH = 02;
    private static final Set<PosixFilePermission> FOLDER_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");

    /** A log folder or file that netwatcher refuses to write; the message is one line. */
    public static final class Unsafe extends RuntimeException {
        public Unsafe(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final int euid;
    private final Set<Integer> trusted;

    private LogFolder(Path dir, int euid, Set<Integer> trusted) {
        this.dir = dir;
        this.euid = euid;
        this.trusted = trusted;
    }

    /** Checks the path, makes what is missing (0700), checks the folder. */
    public static LogFolder open(Path dir) {
        int euid = effectiveUid();
        return open(dir, euid, trustedOwners(euid, System.getenv("SUDO_UID")));
    }

    static LogFolder open(Path dir, int euid, Set<Integer> trusted) {
        LogFolder f = new LogFolder(dir.toAbsolutePath(), euid, trusted);
        f.prepare();
        return f;
    }

    public Path path() {
        return dir;
    }

    static Set<Integer> trustedOwners(int euid, String sudoUid) {
        java.util.List<Integer> owners = new java.util.ArrayList<>(java.util.List.of(0, euid));
        if (sudoUid != null && sudoUid.matches("\\d{1,9}")) owners.add(Integer.parseInt(sudoUid));
        return Set.copyOf(owners);
    }

    private void prepare() {
        Path p = dir.getRoot();
        for (Path name : dir) {
            Path next = p.resolve(name);
            boolean last = next.equals(dir);
            Map<String, Object> l = attrs(next, false);
            if (l == null) {
                create(next);
            } else if (type(l) == S_IFLNK) {
                if (!trusted.contains(uid(l)))
                    throw new Unsafe(next + " is a symbolic link owned by uid " + uid(l) + ", not by root or you");
            }
            checkFolder(next, attrs(next, true), last);
            p = next;
        }
        // the resolved path may pass through folders the written one does not name
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw new Unsafe("cannot resolve " + dir + ": " + e.getMessage());
        }
        Path q = real.getRoot();
        checkFolder(q, attrs(q, true), false);
        for (Path name : real) {
            q = q.resolve(name);
            checkFolder(q, attrs(q, true), q.equals(real));
        }
    }

    private void create(Path p) {
        try {
            Files.createDirectory(p, PosixFilePermissions.asFileAttribute(FOLDER_MODE));
            // mkdir(2) applies the umask; the mode is set exactly once the folder is ours
            Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setPermissions(FOLDER_MODE);
        } catch (FileAlreadyExistsException e) {
            // made by someone in between: the checks that follow judge it
        } catch (IOException e) {
            throw new Unsafe("cannot create log folder " + p + ": " + reason(e));
        }
    }

    private void checkFolder(Path p, Map<String, Object> a, boolean logFolder) {
        if (a == null) throw new Unsafe(p + " does not exist");
        if (type(a) != S_IFDIR) throw new Unsafe(p + " is not a folder");
        int mode = mode(a);
        if (!trusted.contains(uid(a)))
            throw new Unsafe((logFolder ? "log folder " : "") + p + " is owned by uid " + uid(a)
                    + ", not by root or you: another user could redirect or read the logs");
        boolean othersWrite = (mode & (S_IWGRP | S_IWOTH)) != 0;
        if (othersWrite && (mode & S_ISVTX) == 0)
            throw new Unsafe((logFolder ? "log folder " : "") + p + " is writable by group or others (mode "
                    + String.format("%04o", mode & 07777) + "): another user could plant links in it");
    }

    /** Opens NAME in the folder for appending, as described in the class comment. */
    public OutputStream append(String name) {
        if (name.contains("/") || name.startsWith(".")) throw new IllegalArgumentException("bad log file name " + name);
        return Channels.newOutputStream(open(dir.resolve(name), StandardOpenOption.APPEND, null, "cannot open log file "));
    }

    /**
     * Opens NAME in the folder for writing from its start (-w): a new file is created exclusively
     * (0600); an existing one is refused unless replace, and then must pass {@link #checkFile} and
     * is opened with O_NOFOLLOW and truncated.
     */
    public FileChannel create(String name, boolean replace) {
        if (name.contains("/") || name.equals(".") || name.equals("..")) throw new IllegalArgumentException("bad file name " + name);
        Path file = dir.resolve(name);
        return open(file, StandardOpenOption.TRUNCATE_EXISTING, replace ? null : file + " exists: add --overwrite to replace it",
                "cannot open ");
    }

    /**
     * file opened for writing as the class comment says: created exclusively (0600), or, when it exists
     * and refusal is null, checked before and after opening it with O_NOFOLLOW and mode (APPEND or
     * TRUNCATE_EXISTING); set to 0600 either way.
     */
    private FileChannel open(Path file, StandardOpenOption mode, String refusal, String failure) {
        try {
            FileChannel ch;
            try {
                ch = FileChannel.open(file, Set.<OpenOption>of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, mode),
                        PosixFilePermissions.asFileAttribute(FILE_MODE));
            } catch (FileAlreadyExistsException exists) {
                if (refusal != null) throw new Unsafe(refusal);
                // checked before opening: a FIFO or device would block or misbehave on open
                checkFile(file);
                ch = FileChannel.open(file, Set.<OpenOption>of(StandardOpenOption.WRITE, mode, LinkOption.NOFOLLOW_LINKS));
            }
            checkFile(file);
            Files.getFileAttributeView(file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setPermissions(FILE_MODE);
            return ch;
        } catch (Unsafe e) {
            throw e;
        } catch (IOException e) {
            throw new Unsafe(failure + file + ": " + reason(e));
        }
    }

    /**
     * Replaces NAME's content as a whole: a new file (exclusive create, 0600) renamed over it.
     * rename(2) replaces the folder entry itself, so a link planted as NAME is replaced, never
     * followed; the folder was checked when it was opened.
     */
    public void replace(String name, byte[] content) {
        if (name.contains("/") || name.startsWith(".")) throw new IllegalArgumentException("bad log file name " + name);
        Path file = dir.resolve(name), tmp = dir.resolve("." + name + ".new");
        try {
            Files.deleteIfExists(tmp); // a leftover (or a planted link: removed, not followed)
            try (OutputStream out = Channels.newOutputStream(Files.newByteChannel(tmp, Set.<OpenOption>of(
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(FILE_MODE)))) {
                out.write(content);
            }
            Files.getFileAttributeView(tmp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setPermissions(FILE_MODE);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new Unsafe("cannot write log file " + file + ": " + reason(e));
        }
    }

    /** Refuses an existing file that is not a plain file of ours (see the class comment). */
    public void checkFile(Path file) {
        Map<String, Object> a = attrs(file, false);
        if (a == null) return;
        if (type(a) == S_IFLNK) throw new Unsafe("log file " + file + " is a symbolic link: refusing to write through it");
        if (type(a) != S_IFREG) throw new Unsafe("log file " + file + " is not a regular file");
        if (uid(a) != euid) throw new Unsafe("log file " + file + " is owned by uid " + uid(a) + ", not by this process's user " + euid);
        if (((Number) a.get("nlink")).intValue() != 1)
            throw new Unsafe("log file " + file + " has " + a.get("nlink") + " hard links: refusing to write to a file linked elsewhere");
    }

    private static Map<String, Object> attrs(Path p, boolean follow) {
        try {
            return follow ? Files.readAttributes(p, "unix:mode,uid,nlink")
                    : Files.readAttributes(p, "unix:mode,uid,nlink", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new Unsafe("cannot inspect " + p + ": " + reason(e));
        }
    }

    private static int mode(Map<String, Object> a) {
        return (Integer) a.get("mode");
    }

    private static int type(Map<String, Object> a) {
        return mode(a) & S_IFMT;
    }

    private static int uid(Map<String, Object> a) {
        return (Integer) a.get("uid");
    }

    private static String reason(IOException e) {
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason().contains("symbolic links") ? "it is a symbolic link" : f.getReason();
        }
        return e.getMessage();
    }

    /** The effective uid, from /proc/self/status ("Uid: real effective saved fs"). */
    static int effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        throw new Unsafe("cannot read this process's user id from /proc/self/status");
    }
}
