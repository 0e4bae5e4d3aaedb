/**
 * @module Counters kept in memory for the stats server, named as the C server's
 * (distcc-protocol.md §7).
 */

/** The C server's job result classes (`dcc_job_summary`). */
export type JobResultClass = "COMPILE_OK" | "COMPILE_ERROR" | "COMPILE_TIMEOUT" | "CLI_DISCONN" | "REJ_BAD_REQ" | "REJ_OVERLOAD" | "OTHER";

export class Stats {
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
  /** Refused before a byte was read, by reason (`access-list`, ...). */
  readonly refusals = new Map<string, number>();
  longestJob: { input: string; compiler: string; ms: number } | undefined;

  recordJob(result: JobResultClass, job?: { input: string; compiler: string; ms: number }): void {
    this.results[result]++;
    if (result === "COMPILE_OK" && job && (this.longestJob === undefined || job.ms > this.longestJob.ms)) this.longestJob = job;
  }

  recordRefusal(reason: string): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }
}
