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
        add(x, alpha, true);
    }

    /**
     * Learns x; without spread, only the mean moves. An abnormal sample is learned that way (clipped at
     * its threshold): with its spread it widened a tight series' mean + k * sd so much at once that
     * the next packets of a lasting 40x shift (a netfilter chain of 3,000 rules) were no longer abnormal
     * after two of them; through the mean alone the shift becomes normal after about 15.
     */
    void add(double x, double alpha, boolean spread) {
        if (n > 0 && !spread) {
            mean += alpha * (x - mean);
            n++;
            return;
        }
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
