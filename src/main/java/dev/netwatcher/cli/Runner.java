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
    private final Runnable atEnd;
    private final java.util.function.LongSupplier anomalies;
    private boolean finished;

    /** atEnd runs before the session closes (final reports); anomalies returns -1 when -L is off. */
    Runner(Session session, Fanout out, PrintWriter err, Runnable atEnd, java.util.function.LongSupplier anomalies) {
        this.session = session;
        this.out = out;
        this.err = err;
        this.atEnd = atEnd;
        this.anomalies = anomalies;
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
        long lost, missed = -1;
        java.util.Map<String, Long> counters = java.util.Map.of();
        try {
            atEnd.run();
        } catch (RuntimeException e) {
            err.println("netwatcher: final report failed: " + e.getMessage());
        }
        try {
            lost = session.lost();
            if (session.countsMissed()) missed = session.missed();
            counters = new java.util.LinkedHashMap<>(session.counters());
            long recursion = session.recursionMisses();
            if (recursion > 0) counters.put("probe runs skipped by the kernel (recursion)", recursion);
        } catch (RuntimeException e) {
            lost = -1;
        }
        try {
            session.close();
        } finally {
            try {
                out.close();
            } finally {
                StringBuilder sb = new StringBuilder("netwatcher: detached; " + session.delivered() + " events");
                if (lost >= 0) sb.append(", ").append(lost).append(" lost (ring buffer full)");
                if (missed >= 0) sb.append(", ").append(missed).append(" missed (hook fired, probe not run by the kernel)");
                long a = anomalies.getAsLong();
                if (a >= 0) sb.append(", ").append(a).append(" latency anomalies");
                for (java.util.Map.Entry<String, Long> c : counters.entrySet()) {
                    sb.append(", ").append(c.getValue()).append(' ').append(c.getKey());
                }
                err.println(sb);
                err.flush();
                AotTraining.ended(session.delivered());
            }
        }
    }
}
