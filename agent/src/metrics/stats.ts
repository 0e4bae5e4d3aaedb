/**
 * @module What the agent counts: the C server's counters (distcc-protocol.md §7), and the same
 * events as Prometheus metrics. Updated by connections; read by the stats server.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The C server's job result classes (`dcc_job_summary`). */
export type JobResultClass = "COMPILE_OK" | "COMPILE_ERROR" | "COMPILE_TIMEOUT" | "CLI_DISCONN" | "REJ_BAD_REQ" | "REJ_OVERLOAD" | "OTHER";

export interface FinishedJob {
  readonly protocol: number;
  readonly input: string;
  readonly compiler: string;
  readonly ms: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** The job counts the stats text averages over 1, 5 and 15 minutes come from these slots. */
const SLOT_MS = 3000;
const SLOTS = (15 * 60 * 1000) / SLOT_MS;

export class Stats {
  readonly registry = new Registry();
  tcpAccept = 0;
  readonly results: Record<JobResultClass, number> = {
    COMPILE_OK: 0,
    COMPILE_ERROR: 0,
    COMPILE_TIMEOUT: 0,
    CLI_DISCONN: 0,
    REJ_BAD_REQ: 0,
    REJ_OVERLOAD: 0,
    OTHER: 0,
  };
  longestJob: { input: string; compiler: string; ms: number } | undefined;
  /** Finished compiles per 3-second slot, newest last, for dcc_num_compiles1/2/3. */
  private readonly compilesPerSlot: number[] = [];
  /** Busy job slots sampled every 3 seconds, for dcc_avg_kids1/2/3. */
  private readonly busyPerSlot: number[] = [];
  private currentSlotCompiles = 0;

  private readonly connections = new Counter({
    name: "distccd_connections_total",
    help: "Connections accepted on the compile port",
    registers: [this.registry],
  });
  private readonly jobs = new Counter({
    name: "distccd_jobs_total",
    help: "Finished jobs by outcome (the C server's result classes) and protocol",
    labelNames: ["outcome", "protocol"],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: "distccd_job_duration_seconds",
    help: "Time from a job's first byte to its last reply byte",
    labelNames: ["protocol"],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly bytes = new Counter({
    name: "distccd_bytes_total",
    help: "Bytes received and sent on the compile port",
    labelNames: ["direction"],
    registers: [this.registry],
  });
  private readonly refused = new Counter({
    name: "distccd_refusals_total",
    help: "Connections and jobs refused, by reason (access-list, idle-timeout, a limit, a protocol error code)",
    labelNames: ["reason"],
    registers: [this.registry],
  });

  constructor(gauges: { active: () => number; queued: () => number; maxJobs: number; draining: () => boolean }) {
    new Gauge({
      name: "distccd_jobs_active",
      help: "Compilers running now",
      registers: [this.registry],
      collect() {
        this.set(gauges.active());
      },
    });
    new Gauge({
      name: "distccd_jobs_queued",
      help: "Complete requests waiting for a compiler slot",
      registers: [this.registry],
      collect() {
        this.set(gauges.queued());
      },
    });
    new Gauge({ name: "distccd_jobs_max", help: "Compiler slots (--jobs)", registers: [this.registry] }).set(gauges.maxJobs);
    new Gauge({
      name: "distccd_draining",
      help: "1 while the agent finishes its jobs before exiting",
      registers: [this.registry],
      collect() {
        this.set(gauges.draining() ? 1 : 0);
      },
    });
    const sampler = setInterval(() => this.sample(gauges.active()), SLOT_MS);
    sampler.unref();
  }

  private sample(busy: number): void {
    this.compilesPerSlot.push(this.currentSlotCompiles);
    this.busyPerSlot.push(busy);
    this.currentSlotCompiles = 0;
    if (this.compilesPerSlot.length > SLOTS) this.compilesPerSlot.shift();
    if (this.busyPerSlot.length > SLOTS) this.busyPerSlot.shift();
  }

  recordConnection(): void {
    this.tcpAccept++;
    this.connections.inc();
  }

  recordJob(result: JobResultClass, job?: FinishedJob): void {
    this.results[result]++;
    this.jobs.inc({ outcome: result, protocol: job ? String(job.protocol) : "unknown" });
    if (!job) return;
    this.currentSlotCompiles++;
    this.duration.observe({ protocol: String(job.protocol) }, job.ms / 1000);
    this.bytes.inc({ direction: "in" }, job.bytesIn);
    this.bytes.inc({ direction: "out" }, job.bytesOut);
    if (result === "COMPILE_OK" && (this.longestJob === undefined || job.ms > this.longestJob.ms)) {
      this.longestJob = { input: job.input, compiler: job.compiler, ms: job.ms };
    }
  }

  recordRefusal(reason: string): void {
    this.refused.inc({ reason });
  }

  /** Compiles finished in the last `minutes`, excluding the current slot (as the C server). */
  compilesIn(minutes: number): number {
    return this.compilesPerSlot.slice(-((minutes * 60_000) / SLOT_MS)).reduce((a, b) => a + b, 0);
  }

  /** Average busy slots over the last `minutes`. */
  averageBusy(minutes: number): number {
    const window = this.busyPerSlot.slice(-((minutes * 60_000) / SLOT_MS));
    return window.length === 0 ? 0 : Math.round(window.reduce((a, b) => a + b, 0) / window.length);
  }
}
