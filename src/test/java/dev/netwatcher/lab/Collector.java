package dev.netwatcher.lab;

import dev.netwatcher.event.Event;
import dev.netwatcher.probe.Filter;
import dev.netwatcher.probe.Probe;
import dev.netwatcher.probe.Session;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A real netwatcher Session running on its own thread, collecting events for assertions. */
public final class Collector implements AutoCloseable {
    private final Session session;
    private final Thread thread;
    private final List<Event> events = new CopyOnWriteArrayList<>();
    private volatile Throwable failure;

    public Collector(List<Probe> probes, Filter filter) {
        this(probes, filter, e -> true);
    }

    /** Keeps only the events keep accepts (a bulk transfer makes too many to keep them all). */
    public Collector(List<Probe> probes, Filter filter, Predicate<Event> keep) {
        session = Session.open(new Session.Config(probes, filter, true), e -> {
            if (keep.test(e)) events.add(e);
        });
        if (!session.unavailable().isEmpty()) { // this kernel has every hook: a half-started probe is a failure
            List<String> why = session.unavailable();
            session.close();
            throw new AssertionError("probes started only in part: " + why);
        }
        thread = Thread.ofPlatform().name("collector").start(() -> {
            try {
                dev.netwatcher.kernel.Clock clock = new dev.netwatcher.kernel.Clock();
                session.run(0, () -> {
                    session.expire(clock.nowEpochNs());
                    java.util.concurrent.CountDownLatch round = syncRequest.get();
                    if (round != null) round.countDown();
                    java.util.concurrent.CountDownLatch l = snapshotRequest.getAndSet(null);
                    if (l != null) {
                        session.readIterators();
                        l.countDown();
                    }
                });
            } catch (Throwable t) {
                failure = t;
            }
        });
    }

    private final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CountDownLatch> snapshotRequest =
            new java.util.concurrent.atomic.AtomicReference<>();

    /** Runs the iterator programs (-x/--rtt socket walk) once on the consumer thread, as the CLI does periodically. */
    public void snapshot() throws InterruptedException {
        java.util.concurrent.CountDownLatch l = new java.util.concurrent.CountDownLatch(1);
        snapshotRequest.set(l);
        if (!l.await(10, java.util.concurrent.TimeUnit.SECONDS)) throw new AssertionError("the socket walk did not run");
    }

    public Session session() {
        return session;
    }

    public List<Event> events() {
        return List.copyOf(events);
    }

    public <T extends Event> List<T> events(Class<T> type, Predicate<? super T> which) {
        return events.stream().filter(type::isInstance).map(type::cast).filter(which).toList();
    }

    /** Waits until at least n events of the type match, or the timeout; returns what matched. */
    public <T extends Event> List<T> await(Class<T> type, Predicate<? super T> which, int n, Duration timeout)
            throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        List<T> got = events(type, which);
        while (got.size() < n && System.nanoTime() < end) {
            Thread.sleep(20);
            got = events(type, which);
        }
        return got;
    }

    private final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CountDownLatch> syncRequest =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * Returns once the consumer has read every record the kernel committed before this call: it
     * waits for two rounds of the run loop to end (each polls the ring buffer and reads all it
     * holds, Session.run), so the second began after this call. No quiet period is taken as proof
     * that nothing else comes: what the test's ground truth already counted is in the ring.
     */
    public void sync() throws InterruptedException {
        java.util.concurrent.CountDownLatch rounds = new java.util.concurrent.CountDownLatch(2);
        syncRequest.set(rounds);
        try {
            if (!rounds.await(10, TimeUnit.SECONDS)) throw new AssertionError("the consumer did not go round within 10 s");
        } finally {
            syncRequest.compareAndSet(rounds, null);
        }
        if (failure != null) throw new AssertionError("consumer failed", failure);
    }

    /** The matching events once every record committed before this call was read ({@link #sync}). */
    public <T extends Event> List<T> settled(Class<T> type, Predicate<? super T> which) throws InterruptedException {
        sync();
        return events(type, which);
    }

    @Override
    public void close() throws InterruptedException {
        session.stop();
        thread.join(5000);
        session.close();
        if (failure != null) throw new AssertionError("consumer failed", failure);
    }
}
