package dev.netwatcher.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The run loop's periodic work, each task at its own period. The consumer thread calls {@link #run}
 * after each batch of records (at least every poll interval), so tasks run on that thread, between
 * events, and need no locking.
 */
final class Periodic implements Runnable {
    private static final class Task {
        final long periodNs;
        final Runnable action;
        long last;

        Task(long periodNs, Runnable action, long last) {
            this.periodNs = periodNs;
            this.action = action;
            this.last = last;
        }
    }

    private final List<Task> tasks = new ArrayList<>();
    private final long startNs = System.nanoTime();
    private boolean first = true;

    /** Runs action every periodNs, the first time one period after the start. */
    Periodic every(long periodNs, Runnable action) {
        tasks.add(new Task(periodNs, action, startNs));
        return this;
    }

    /** Runs action at the first tick, then every periodNs. */
    Periodic fromStart(long periodNs, Runnable action) {
        tasks.add(new Task(periodNs, action, Long.MIN_VALUE));
        return this;
    }

    /** Runs action at every tick. */
    Periodic always(Runnable action) {
        tasks.add(new Task(0, action, startNs));
        return this;
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        for (Task t : tasks) {
            boolean due = t.last == Long.MIN_VALUE ? first : now - t.last >= t.periodNs;
            if (due) {
                t.last = now;
                t.action.run();
            }
        }
        first = false;
    }
}
