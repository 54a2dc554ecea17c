package dev.netwatcher.probe;

import java.util.ArrayList;
import java.util.List;

/**
 * What start-up has to say: features this kernel cannot serve (unavailable: the user gets nothing
 * from them), limits of features that work (notes), stand-in programs in use (fallbacks). Probes
 * start on parallel threads, each into a part of its own, added in the probes' order.
 */
final class StartReport implements ProbeLoader.Said {
    private final List<String> unavailable = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<String> fallbacks = new ArrayList<>();

    @Override
    public synchronized void unavailable(String text) {
        unavailable.add(text);
    }

    @Override
    public synchronized void note(String text) {
        notes.add(text);
    }

    @Override
    public synchronized void fallback(String text) {
        fallbacks.add(text);
    }

    /** Adds what a part said, after what this report holds. */
    synchronized void add(StartReport part) {
        List<String> u, n, f;
        synchronized (part) {
            u = List.copyOf(part.unavailable);
            n = List.copyOf(part.notes);
            f = List.copyOf(part.fallbacks);
        }
        unavailable.addAll(u);
        notes.addAll(n);
        fallbacks.addAll(f);
    }

    synchronized List<String> unavailable() {
        return List.copyOf(unavailable);
    }

    synchronized List<String> notes() {
        return List.copyOf(notes);
    }

    synchronized List<String> fallbacks() {
        return List.copyOf(fallbacks);
    }
}
