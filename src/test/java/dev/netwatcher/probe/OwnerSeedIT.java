package dev.netwatcher.probe;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sockets open before netwatcher starts get their owner from the seed walks (owner.bpf.c:
 * nw_own_files, then nw_own_tcp and nw_own_udp), read back from the socket storage itself: a
 * TCP listener, both ends of an established connection and a bound UDP socket that this process
 * opened and does not touch again, and, as the control, a socket opened after the start, which
 * no walk saw and no setter named yet.
 */
class OwnerSeedIT {
    @Test
    void socketsOpenAtStartAreNamedByTheWalks() throws Exception {
        assertEquals("root", System.getProperty("user.name"), "kernel tests need root (CI runs them as root)");
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocket listener = new ServerSocket(0, 4, lo);
             Socket client = new Socket(lo, listener.getLocalPort());
             Socket accepted = listener.accept();
             DatagramSocket udp = new DatagramSocket(new InetSocketAddress(lo, 0))) {
            int me = (int) ProcessHandle.current().pid();
            int listenerFd = fdOf("tcp", listener.getLocalPort(), 0);
            int clientFd = fdOf("tcp", client.getLocalPort(), listener.getLocalPort());
            int acceptedFd = fdOf("tcp", listener.getLocalPort(), client.getLocalPort());
            int udpFd = fdOf("udp", udp.getLocalPort(), 0);
            try (Session s = Session.open(new Session.Config(List.of(Probes.TCP_STATE), Filter.NONE, false), e -> {})) {
                assertEquals(List.of(), s.unavailable());
                assertEquals(me, s.ownerPidOfFd(listenerFd).orElseThrow(), "the listener");
                assertEquals(me, s.ownerPidOfFd(clientFd).orElseThrow(), "the connecting end");
                assertEquals(me, s.ownerPidOfFd(acceptedFd).orElseThrow(), "the accepted end");
                assertEquals(me, s.ownerPidOfFd(udpFd).orElseThrow(), "the UDP socket");
                try (DatagramSocket late = new DatagramSocket(new InetSocketAddress(lo, 0))) {
                    int lateFd = fdOf("udp", late.getLocalPort(), 0);
                    assertEquals(0, s.ownerPidOfFd(lateFd).orElseThrow(), "a socket opened after the walks, not used yet: no owner");
                }
            }
        }
    }

    /** This process's fd of the socket with these ports, found by its inode in /proc/net/PROTO{,6}. */
    private static int fdOf(String proto, int localPort, int remotePort) throws IOException {
        long ino = 0;
        for (String file : new String[] {proto, proto + "6"}) {
            for (String line : Files.readAllLines(Path.of("/proc/net", file))) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 10 || !f[1].contains(":")) continue;
                int lp = Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1), 16);
                int rp = Integer.parseInt(f[2].substring(f[2].lastIndexOf(':') + 1), 16);
                if (lp == localPort && rp == remotePort) ino = Long.parseLong(f[9]);
            }
        }
        assertTrue(ino != 0, proto + " socket on port " + localPort + " not in /proc/net");
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals("socket:[" + ino + "]")) return Integer.parseInt(fd.getFileName().toString());
                } catch (IOException gone) {
                    // an fd closed meanwhile
                }
            }
        }
        throw new AssertionError("no fd of socket inode " + ino);
    }
}
