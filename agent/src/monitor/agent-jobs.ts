/**
 * @module The body of `GET /api/jobs`: this agent (name, version, slots, state, rates, refusals)
 * and its jobs. Peers return the same document, which the farm view gathers.
 */
import type { JobBoard } from "./job-board.ts";
import type { JobRecord } from "./job-events.ts";

/** What the monitor shows about the agent itself, read on each request. */
export interface AgentInfo {
  readonly name: string;
  readonly version: string;
  draining(): boolean;
  /** Refusals since start, by reason (as distccd_refusals_total). */
  refusals(): Readonly<Record<string, number>>;
  /** How compiles are confined, in a few words; undefined when nothing reports it. */
  sandbox?(): string | undefined;
}

export interface AgentSummary {
  readonly name: string;
  readonly version: string;
  readonly slots: number;
  readonly draining: boolean;
  readonly sandbox: string | null;
  readonly jobsPerMinute: number;
  readonly cache: { hits: number; misses: number } | null;
  readonly refusals: Readonly<Record<string, number>>;
  /** The agent's clock (epoch ms), so readers can place its times against their own. */
  readonly now: number;
}

export interface AgentJobs {
  readonly agent: AgentSummary;
  readonly running: readonly JobRecord[];
  readonly queued: readonly JobRecord[];
  readonly finished: readonly JobRecord[];
}

export function agentJobs(board: JobBoard, info: AgentInfo, since?: number): AgentJobs {
  return {
    agent: {
      name: info.name,
      version: info.version,
      slots: board.slots,
      draining: info.draining(),
      sandbox: info.sandbox?.() ?? null,
      jobsPerMinute: board.jobsPerMinute(),
      cache: board.cacheRatio() ?? null,
      refusals: info.refusals(),
      now: board.time(),
    },
    ...board.snapshot(since),
  };
}
