/**
 * @module The seam between a connection and the monitor: what a connection reports about its
 * job (it opened, changed phase, asked the cache, finished) and the records the monitor keeps.
 * Connections know only these types; the board behind them is in job-board.ts.
 */
import type { CacheOutcome } from "../cache/cache-metrics.ts";
import type { JobResultClass } from "../metrics/stats.ts";

/** Where a job is, in order; a refused job goes from receiving straight to replying. */
export type JobPhase = "receiving" | "queued" | "compiling" | "replying";

export const JOB_PHASES: readonly JobPhase[] = ["receiving", "queued", "compiling", "replying"];

/** What the request asked for, once the connection knows it. */
export interface JobRequest {
  readonly protocol: number;
  readonly compiler: string;
  readonly source: string;
}

/** One job's reports, from the connection that carries it. Calls after `finish` are ignored. */
export interface JobTracker {
  phase(phase: JobPhase, request?: JobRequest): void;
  /** How the compile cache served this job, as the cache says it; the monitor keeps a hit or a miss. */
  cache(outcome: CacheOutcome): void;
  finish(outcome: JobResultClass): void;
}

/** Where connections report: one tracker per job, opened at the job's first byte. */
export interface JobEventSink {
  open(client: string): JobTracker;
}

/** A job as /api/jobs and /api/events show it; times are epoch milliseconds. */
export interface JobRecord {
  /** Unique within one agent's run. */
  readonly id: number;
  readonly client: string;
  protocol: number | undefined;
  compiler: string | undefined;
  source: string | undefined;
  phase: JobPhase | "finished";
  readonly startedAt: number;
  /** Since when the job is in its current phase. */
  phaseAt: number;
  /** Milliseconds spent in each phase left so far. */
  readonly phases: Partial<Record<JobPhase, number>>;
  /** The compile slot (0-based lane) the job ran in, once it got one. */
  slot: number | undefined;
  cache: "hit" | "miss" | undefined;
  endedAt: number | undefined;
  outcome: JobResultClass | undefined;
}

export type JobEvent = { readonly type: "started" | "phase" | "finished"; readonly job: JobRecord };
