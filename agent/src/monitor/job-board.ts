/**
 * @module The agent's jobs in memory: running and queued ones, the last finished ones with their
 * phase timings, and the compile slot each ran in (a lane of the monitor). Memory is bounded by
 * the open connections (--max-connections) and the ring of finished jobs, whatever the load.
 * Observers get each change as it happens; the phase times also go to /metrics.
 */
import type { CacheOutcome } from "../cache/cache-metrics.ts";
import type { JobResultClass } from "../metrics/stats.ts";
import {
  JOB_PHASES,
  type JobEvent,
  type JobEventSink,
  type JobPhase,
  type JobRecord,
  type JobRequest,
  type JobTracker,
} from "./job-events.ts";

/** Finished jobs kept for /api/jobs and the timeline. */
export const KEPT_FINISHED = 1000;
/** Longest compiler or source name kept: a client may send 64 KiB arguments, and 1,000 of them add up. */
export const MAX_NAME_CHARS = 512;

function clip(name: string): string {
  return name.length <= MAX_NAME_CHARS ? name : `${name.slice(0, MAX_NAME_CHARS - 1)}…`;
}

/** A hit from either tier is a hit; a job the cache did not look up (off, bypass) has no answer. */
function cacheAnswer(outcome: CacheOutcome): JobRecord["cache"] {
  if (outcome === "miss") return "miss";
  return outcome.startsWith("hit") ? "hit" : undefined;
}

export interface JobBoardOptions {
  /** Compile slots (--jobs): the lanes. */
  readonly slots: number;
  readonly keep?: number;
  /** Epoch milliseconds, fractional. */
  readonly now?: () => number;
  /** Each phase's length when a job finishes. */
  readonly observePhase?: (phase: JobPhase, seconds: number) => void;
}

export interface JobBoardSnapshot {
  readonly running: readonly JobRecord[];
  readonly queued: readonly JobRecord[];
  readonly finished: readonly JobRecord[];
}

const epochNow = () => performance.timeOrigin + performance.now();

export class JobBoard implements JobEventSink {
  readonly slots: number;
  private readonly keep: number;
  private readonly now: () => number;
  private readonly observePhase: ((phase: JobPhase, seconds: number) => void) | undefined;
  private readonly active = new Map<number, JobRecord>();
  /** Ring of finished jobs: `ring[(next - 1) % keep]` is the newest. */
  private readonly ring: JobRecord[] = [];
  private next = 0;
  private lastId = 0;
  /** Which job holds each lane, so a compile takes the lowest free one. */
  private readonly lanes: (number | undefined)[];
  private readonly observers = new Set<(event: JobEvent) => void>();

  constructor(options: JobBoardOptions) {
    this.slots = options.slots;
    this.keep = options.keep ?? KEPT_FINISHED;
    this.now = options.now ?? epochNow;
    this.observePhase = options.observePhase;
    this.lanes = new Array(options.slots).fill(undefined);
  }

  open(client: string): JobTracker {
    const at = this.now();
    const job: JobRecord = {
      id: ++this.lastId,
      client,
      protocol: undefined,
      compiler: undefined,
      source: undefined,
      phase: "receiving",
      startedAt: at,
      phaseAt: at,
      phases: {},
      slot: undefined,
      cache: undefined,
      endedAt: undefined,
      outcome: undefined,
    };
    this.active.set(job.id, job);
    this.emit("started", job);
    return {
      phase: (phase, request) => this.enter(job, phase, request),
      cache: (outcome) => {
        const answer = cacheAnswer(outcome);
        if (answer !== undefined && job.phase !== "finished") job.cache = answer;
      },
      finish: (outcome) => this.finish(job, outcome),
    };
  }

  /** The clock the jobs' times are in (epoch ms; monotonic since start, so a clock step moves no bar). */
  time(): number {
    return this.now();
  }

  /** Calls `observer` with every change until the returned function is called. */
  observe(observer: (event: JobEvent) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  get observerCount(): number {
    return this.observers.size;
  }

  /** Finished jobs that ended after `since` (epoch ms), oldest first. */
  snapshot(since = Number.NEGATIVE_INFINITY): JobBoardSnapshot {
    const running: JobRecord[] = [];
    const queued: JobRecord[] = [];
    for (const job of this.active.values()) (job.phase === "queued" ? queued : running).push(job);
    return { running, queued, finished: this.finished().filter((job) => (job.endedAt ?? 0) > since) };
  }

  /** Jobs finished in the last minute; past the ring's reach, extrapolated from its span. */
  jobsPerMinute(): number {
    const finished = this.finished();
    const now = this.now();
    const oldest = finished[0]?.endedAt;
    if (finished.length === this.keep && oldest !== undefined && now - oldest < 60_000)
      return Math.round((finished.length * 60_000) / Math.max(now - oldest, 1));
    return finished.filter((job) => (job.endedAt ?? 0) > now - 60_000).length;
  }

  /** Cache answers among the kept finished jobs; undefined when no job asked a cache. */
  cacheRatio(): { hits: number; misses: number } | undefined {
    let hits = 0;
    let misses = 0;
    for (const job of this.ring) {
      if (job.cache === "hit") hits++;
      else if (job.cache === "miss") misses++;
    }
    return hits + misses === 0 ? undefined : { hits, misses };
  }

  private finished(): JobRecord[] {
    if (this.ring.length < this.keep) return [...this.ring];
    const start = this.next % this.keep;
    return [...this.ring.slice(start), ...this.ring.slice(0, start)];
  }

  private enter(job: JobRecord, phase: JobPhase, request: JobRequest | undefined): void {
    if (job.phase === "finished") return;
    if (request !== undefined) {
      job.protocol = request.protocol;
      job.compiler = clip(request.compiler);
      job.source = clip(request.source);
    }
    if (phase === job.phase) return;
    this.leavePhase(job);
    job.phase = phase;
    if (phase === "compiling") job.slot = this.takeLane(job.id);
    this.emit("phase", job);
  }

  private finish(job: JobRecord, outcome: JobResultClass): void {
    if (job.phase === "finished") return;
    this.leavePhase(job);
    job.phase = "finished";
    job.endedAt = job.phaseAt;
    job.outcome = outcome;
    this.active.delete(job.id);
    if (this.ring.length < this.keep) this.ring.push(job);
    else this.ring[this.next % this.keep] = job;
    this.next++;
    if (this.observePhase)
      for (const phase of JOB_PHASES) {
        const ms = job.phases[phase];
        if (ms !== undefined) this.observePhase(phase, ms / 1000);
      }
    this.emit("finished", job);
  }

  /** Closes the current phase's time; a compile's lane is free once it stops compiling. */
  private leavePhase(job: JobRecord): void {
    const at = this.now();
    if (job.phase !== "finished") job.phases[job.phase] = (job.phases[job.phase] ?? 0) + (at - job.phaseAt);
    if (job.phase === "compiling") this.freeLane(job.id);
    job.phaseAt = at;
  }

  /** The lowest free lane; past --jobs (it cannot happen while JobSlots holds) a lane of its own. */
  private takeLane(id: number): number {
    const free = this.lanes.indexOf(undefined);
    const lane = free >= 0 ? free : this.lanes.length;
    this.lanes[lane] = id;
    return lane;
  }

  private freeLane(id: number): void {
    const lane = this.lanes.indexOf(id);
    if (lane >= 0) this.lanes[lane] = undefined;
    while (this.lanes.length > this.slots && this.lanes.at(-1) === undefined) this.lanes.pop();
  }

  /** Every observer gets the same event object (the event stream encodes it once for all). */
  private emit(type: JobEvent["type"], job: JobRecord): void {
    if (this.observers.size === 0) return;
    const event = { type, job };
    for (const observer of this.observers) observer(event);
  }
}
