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
    /** The mean of the normal samples only: what the series is when nothing is wrong (AnomalyDetector's cap). */
    private double normalMean;
    private long normals;

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
        if (spread) {
            normalMean = normals == 0 ? x : normalMean + alpha * (x - normalMean);
            normals++;
        }
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

    /** The mean of the samples learned as normal (with their spread); the mean while there was none. */
    double normalMean() {
        return normals == 0 ? mean : normalMean;
    }

    double sd() {
        return Math.sqrt(Math.max(0, var));
    }

    long samples() {
        return n;
    }
}
