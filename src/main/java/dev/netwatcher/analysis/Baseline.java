package dev.netwatcher.analysis;

/**
 * Exponentially weighted mean and variance of one latency series (the
 * incremental form in T. Finch, "Incremental calculation of weighted mean and
 * variance", 2009): O(1) memory and time per sample, recent samples weigh most.
 */
final class Baseline {
    private double mean;
    private double var;
    private long n;

    void add(double x, double alpha) {
        if (n == 0) {
            mean = x;
            var = 0;
        } else {
            double d = x - mean;
            double inc = alpha * d;
            mean += inc;
            var = (1 - alpha) * (var + d * inc);
        }
        n++;
    }

    double mean() {
        return mean;
    }

    double sd() {
        return Math.sqrt(Math.max(0, var));
    }

    long samples() {
        return n;
    }
}
