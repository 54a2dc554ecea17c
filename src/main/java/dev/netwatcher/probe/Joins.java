package dev.netwatcher.probe;

import java.util.List;

/** Waiting for start-up's threads (object loads, the owner seed) to end, even when interrupted meanwhile. */
final class Joins {
    private Joins() {}

    /** Joins every thread; an interrupt that came meanwhile is kept for the caller (the flag is set again). */
    static void all(List<Thread> threads) {
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
