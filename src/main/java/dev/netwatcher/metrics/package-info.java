/**
 * --metrics: the Prometheus view of a run. {@link dev.netwatcher.metrics.MetricsSink}
 * counts events as they arrive; {@link dev.netwatcher.metrics.KernelMetrics} reads
 * what the kernel aggregated (per-layer histograms, packet counts) and netwatcher's
 * own health at scrape time, through plain suppliers: nothing here knows BPF.
 */
package dev.netwatcher.metrics;
