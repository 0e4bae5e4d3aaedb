/**
 * @module `distccd_job_phase_seconds{phase}`: how long finished jobs spent receiving, queued,
 * compiling and replying, so where the time goes shows in Prometheus as on the page.
 */
import { Histogram, type Registry } from "../metrics/prometheus.ts";
import type { JobPhase } from "./job-events.ts";

/** From a cached reply's millisecond to a long link-time-optimised unit. */
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Registers the histogram; the returned function observes one phase of one job. */
export function phaseMetrics(registry: Registry): (phase: JobPhase, seconds: number) => void {
  const histogram = registry.register(
    new Histogram(
      "distccd_job_phase_seconds",
      "Time finished jobs spent in each phase (receiving, queued, compiling, replying)",
      ["phase"],
      BUCKETS,
    ),
  );
  return (phase, seconds) => histogram.observe({ phase }, seconds);
}
