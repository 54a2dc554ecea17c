package dev.netwatcher.cli;

import dev.netwatcher.sink.LogFolder;
import dev.netwatcher.sink.PcapngSink;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** -w FILE: where the pcapng goes (a file made as LogFolder makes log files, or stdout for "-"). */
final class Capture {
    private Capture() {}

    /** Refused before anything attaches: an existing FILE without --overwrite (exit 2). */
    static void check(Path file, boolean overwrite) {
        if (file.toString().equals("-")) return;
        if (file.getFileName() == null) throw new UsageException("-w: " + file + " names no file");
        if (Files.isDirectory(file)) throw new UsageException("-w: " + file + " is a folder");
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !overwrite)
            throw new UsageException("-w: " + file + " exists: add --overwrite to replace it");
    }

    static PcapngSink open(Path file, boolean overwrite, int snaplen) {
        WritableByteChannel ch;
        if (file.toString().equals("-")) {
            ch = new FileOutputStream(FileDescriptor.out).getChannel();
        } else {
            Path abs = file.toAbsolutePath();
            ch = LogFolder.open(abs.getParent()).create(abs.getFileName().toString(), overwrite);
        }
        return new PcapngSink(ch, snaplen, ownNetns(), System.getProperty("os.name") + " " + System.getProperty("os.version"));
    }

    /** This process's network namespace inode, from /proc/self/ns/net ("net:[4026531840]"); 0 when unknown. */
    private static long ownNetns() {
        try {
            String l = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
            return Long.parseLong(l.substring(l.indexOf('[') + 1, l.indexOf(']')));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
