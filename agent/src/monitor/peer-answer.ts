/**
 * @module A peer's `/api/jobs` answer, checked before it reaches the page: a peer of another
 * version, or a broken one, must not break the view of the whole farm. Malformed jobs are
 * dropped, odd fields fall back to empty values, and no list is longer than an agent keeps.
 */
import type { AgentJobs, AgentSummary } from "./agent-jobs.ts";
import { JOB_PHASES, type JobRecord } from "./job-events.ts";

/** More jobs than any agent reports (running ones are bounded by its --max-connections). */
const MAX_JOBS = 5000;
const PHASES = new Set<string>([...JOB_PHASES, "finished"]);

type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose => typeof value === "object" && value !== null && !Array.isArray(value);
const finite = (value: unknown): number | undefined => (typeof value === "number" && Number.isFinite(value) ? value : undefined);
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

function numbers(value: unknown): Record<string, number> {
  if (!isObject(value)) return {};
  const kept: Record<string, number> = {};
  for (const [key, count] of Object.entries(value)) {
    const n = finite(count);
    if (n !== undefined) kept[key] = n;
  }
  return kept;
}

function job(value: unknown): JobRecord | undefined {
  if (!isObject(value)) return undefined;
  const id = finite(value.id);
  const client = text(value.client);
  const phase = text(value.phase);
  const startedAt = finite(value.startedAt);
  if (id === undefined || client === undefined || phase === undefined || !PHASES.has(phase) || startedAt === undefined) return undefined;
  const cache = value.cache === "hit" || value.cache === "miss" ? value.cache : undefined;
  return {
    id,
    client,
    protocol: finite(value.protocol),
    compiler: text(value.compiler),
    source: text(value.source),
    phase: phase as JobRecord["phase"],
    startedAt,
    phaseAt: finite(value.phaseAt) ?? startedAt,
    phases: numbers(value.phases),
    slot: finite(value.slot),
    cache,
    endedAt: finite(value.endedAt),
    outcome: text(value.outcome) as JobRecord["outcome"],
  };
}

function jobs(value: unknown): JobRecord[] {
  if (!Array.isArray(value)) return [];
  return value
    .slice(-MAX_JOBS)
    .map(job)
    .filter((kept): kept is JobRecord => kept !== undefined);
}

function summary(value: Loose, now: number): AgentSummary {
  const cache = isObject(value.cache) ? { hits: finite(value.cache.hits) ?? 0, misses: finite(value.cache.misses) ?? 0 } : null;
  return {
    name: text(value.name) ?? "",
    version: text(value.version) ?? "unknown",
    slots: Math.min(Math.max(Math.trunc(finite(value.slots) ?? 0), 0), 10_000),
    draining: value.draining === true,
    sandbox: text(value.sandbox) ?? null,
    jobsPerMinute: finite(value.jobsPerMinute) ?? 0,
    cache,
    refusals: numbers(value.refusals),
    now: finite(value.now) ?? now,
  };
}

/** The answer as AgentJobs, or undefined when it is not an /api/jobs answer at all. */
export function peerAnswer(value: unknown, now = Date.now()): AgentJobs | undefined {
  if (!isObject(value) || !isObject(value.agent) || !Array.isArray(value.running) || !Array.isArray(value.finished)) return undefined;
  return { agent: summary(value.agent, now), running: jobs(value.running), queued: jobs(value.queued), finished: jobs(value.finished) };
}
