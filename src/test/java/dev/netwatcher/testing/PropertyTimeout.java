package dev.netwatcher.testing;

import net.jqwik.api.lifecycle.AroundTryHook;
import net.jqwik.api.lifecycle.Lifespan;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.Store;
import net.jqwik.api.lifecycle.TryExecutionResult;
import net.jqwik.api.lifecycle.TryExecutor;
import net.jqwik.api.lifecycle.TryLifecycleContext;

import java.lang.reflect.AnnotatedElement;
import java.util.List;
import java.util.Optional;

/**
 * Every jqwik property is bounded, as junit-platform.properties bounds every JUnit test (jqwik is an
 * engine of its own: Jupiter's timeout does not reach it). Each try after {@link #LIMIT_NS} of the
 * property's time is falsified at once, so a property that has become slow (a decoder that loops on
 * some input) fails with its tries counted instead of stalling CI. Registered for every property by
 * META-INF/services/net.jqwik.api.lifecycle.LifecycleHook.
 */
public final class PropertyTimeout implements AroundTryHook {
    public static final long LIMIT_NS = 120_000_000_000L;
    private static final String START = "dev.netwatcher.testing.PropertyTimeout.start";

    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public boolean appliesTo(Optional<AnnotatedElement> element) {
        return true;
    }

    @Override
    public TryExecutionResult aroundTry(TryLifecycleContext context, TryExecutor aTry, List<Object> parameters) {
        long start = Store.getOrCreate(START, Lifespan.PROPERTY, System::nanoTime).get();
        long spent = System.nanoTime() - start;
        if (spent > LIMIT_NS) {
            return TryExecutionResult.falsified(new AssertionError(context.label() + " ran longer than "
                    + LIMIT_NS / 1_000_000_000L + " s (PropertyTimeout)"));
        }
        return aTry.execute(parameters);
    }
}
