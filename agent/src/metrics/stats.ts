/**
 * @module What the agent counts: the C server's counters (distcc-protocol.md §7), and the same
 * events as Prometheus metrics. Updated by connections; read by the stats server.
 */
import { Counter, Gauge, Histogram, Registry } from "./prometheus.ts";

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
  /** Refusals since start by reason, as distccd_refusals_total (the monitor shows them). */
  private readonly refusalCounts = new Map<string, number>();
  /** Finished compiles per 3-second slot, newest last, for dcc_num_compiles1/2/3. */
  private readonly compilesPerSlot: number[] = [];
  /** Busy job slots sampled every 3 seconds, for dcc_avg_kids1/2/3. */
  private readonly busyPerSlot: number[] = [];
  private currentSlotCompiles = 0;

  private readonly connections = this.registry.register(
    new Counter("distccd_connections_total", "Connections accepted on the compile port"),
  );
  private readonly jobs = this.registry.register(
    new Counter("distccd_jobs_total", "Finished jobs by outcome (the C server's result classes) and protocol", ["outcome", "protocol"]),
  );
  private readonly duration = this.registry.register(
    new Histogram(
      "distccd_job_duration_seconds",
      "Time from a job's first byte to its last reply byte",
      ["protocol"],
      [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    ),
  );
  private readonly bytes = this.registry.register(
    new Counter("distccd_bytes_total", "Bytes received and sent on the compile port", ["direction"]),
  );
  private readonly refused = this.registry.register(
    new Counter(
      "distccd_refusals_total",
      "Connections and jobs refused, by reason (access-list, idle-timeout, a limit, a protocol error code)",
      ["reason"],
    ),
  );

  private readonly faults = this.registry.register(
    new Counter(
      "distccd_server_faults_total",
      "Jobs lost to the server's own fault, not the request's (E_NO_SPACE: its temp space was full)",
      ["fault"],
    ),
  );

  constructor(gauges: {
    active: () => number;
    queued: () => number;
    maxJobs: number;
    draining: () => boolean;
    /** TMPDIR's free space in bytes (-1: unknown), and the least /readyz accepts. */
    tempSpace?: { free: () => number; minFree: number };
  }) {
    this.registry.register(new Gauge("distccd_jobs_active", "Compilers running now", gauges.active));
    this.registry.register(new Gauge("distccd_jobs_queued", "Complete requests waiting for a compiler slot", gauges.queued));
    this.registry.register(new Gauge("distccd_jobs_max", "Compiler slots (--jobs)", () => gauges.maxJobs));
    this.registry.register(
      new Gauge("distccd_draining", "1 while the agent finishes its jobs before exiting", () => (gauges.draining() ? 1 : 0)),
    );
    if (gauges.tempSpace !== undefined) {
      const { free, minFree } = gauges.tempSpace;
      this.registry.register(new Gauge("distccd_temp_free_bytes", "Free space in TMPDIR, where jobs' files go (-1: unknown)", free));
      this.registry.register(
        new Gauge("distccd_temp_min_free_bytes", "Free space in TMPDIR below which /readyz fails (--min-free-space)", () => minFree),
      );
    }
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
    this.refusalCounts.set(reason, (this.refusalCounts.get(reason) ?? 0) + 1);
  }

  refusals(): Record<string, number> {
    return Object.fromEntries(this.refusalCounts);
  }

  recordServerFault(code: string): void {
    this.faults.inc({ fault: code });
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
