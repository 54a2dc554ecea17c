package dev.netwatcher.cli;

import dev.netwatcher.probe.Session;

import java.io.PrintWriter;

/**
 * Ends a run exactly once, from whichever path gets there first: the end of
 * --duration, an exception in the consumer, or SIGINT/SIGTERM (shutdown hook).
 * The hook stops the consumer loop and waits for it before closing, so no ring
 * buffer is unmapped under the reader. SIGKILL needs none of this: every link
 * is fd-owned and the kernel detaches it when the process dies.
 */
final class Runner {
    private final Session session;
    private final Fanout out;
    private final PrintWriter err;
    private boolean finished;

    Runner(Session session, Fanout out, PrintWriter err) {
        this.session = session;
        this.out = out;
        this.err = err;
    }

    void onSignal() {
        session.stop();
        try {
            session.awaitStopped(3000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        finish();
    }

    synchronized void finish() {
        if (finished) return;
        finished = true;
        long lost;
        try {
            lost = session.lost();
        } catch (RuntimeException e) {
            lost = -1;
        }
        try {
            session.close();
        } finally {
            try {
                out.close();
            } finally {
                err.println("netwatcher: detached; " + session.delivered() + " events"
                        + (lost >= 0 ? ", " + lost + " lost (ring buffer full)" : ""));
                err.flush();
            }
        }
    }
}
