package dev.netwatcher.event;

import java.net.InetAddress;

/**
 * InetAddress.getHostAddress() with a small direct-mapped cache: a busy run writes the
 * same few addresses millions of times. Used from the consumer thread (a race between
 * threads could only cost a recomputation: each slot is replaced whole).
 */
final class AddressText {
    private record Slot(InetAddress address, String text) {}

    private static final int SIZE = 1024;
    private static final Slot[] SLOTS = new Slot[SIZE];

    private AddressText() {}

    static String of(InetAddress a) {
        int i = a.hashCode() & (SIZE - 1);
        Slot s = SLOTS[i];
        if (s != null && s.address().equals(a)) return s.text();
        String text = a.getHostAddress();
        SLOTS[i] = new Slot(a, text);
        return text;
    }
}
