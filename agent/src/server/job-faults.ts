/**
 * @module What ends a connection's job other than its compile or a broken request, in one place:
 * the server's temp disk filling up (E_NO_SPACE: logged, counted, and a reply that sends the
 * client elsewhere), a compiler stopped by a limit, and a client too slow for the idle timeout
 * (--client-timeout) or the request deadline (--request-timeout), which is dropped.
 */
import type { ServerFaultError } from "../errors.ts";
import type { JobResult } from "../job/compile-job.ts";
import { compileNoSpaceFault, noSpaceFault, noSpaceResult } from "../job/no-space.ts";
import { shortOfSpace } from "../job/temp-space.ts";
import type { ServerContext } from "./connection.ts";

/** What the client has to send before the server takes its turn: the request, or reading the reply. */
export type ClientLeg = "request" | "reply";

export class JobFaults {
  private leg: ClientLeg = "request";
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bounds the whole leg: a trickle refreshes only the idle timer. */
  private deadline: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ctx: Pick<ServerContext, "config" | "log" | "stats">,
    private readonly peer: string,
    /** Ends the connection, for a client too slow. */
    private readonly drop: () => void,
  ) {}

  /** Starts both of the client's clocks for one leg. */
  watch(leg: ClientLeg): void {
    this.unwatch();
    this.leg = leg;
    const { idleTimeoutMs, requestTimeoutMs } = this.ctx.config.limits;
    this.idleTimer = setTimeout(() => this.idle(), idleTimeoutMs);
    this.deadline = setTimeout(() => this.pastDeadline(), requestTimeoutMs);
  }

  /** The client sent or took something: the idle clock starts over, the deadline does not. */
  progress(): void {
    this.idleTimer?.refresh();
  }

  /** The server has the turn (the job runs), or the connection is closed. */
  unwatch(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.deadline);
  }

  /**
   * Runs a step that stores part of the request. A full disk is the server's fault: the reply
   * the job gets instead (the caller drops what was stored). Any other error is thrown on.
   */
  storing(step: () => void): JobResult | undefined {
    try {
      step();
      return undefined;
    } catch (error) {
      const lost = this.noSpace(error, "storing the request");
      if (lost === undefined) throw error;
      return lost;
    }
  }

  /** The reply for a job whose own files did not fit on the disk; undefined for any other error. */
  lost(error: unknown): JobResult | undefined {
    return this.noSpace(error, "writing the job's files");
  }

  /**
   * The compile's result as the client gets it: a failure for want of temp space is the server's
   * fault, not a compile error; a compiler stopped by --job-lifetime or --max-output-bytes is a
   * limit hit, logged and counted.
   */
  compiled(result: JobResult): JobResult {
    const { tmpDir, minFreeSpaceBytes, limits, jobLifetimeSeconds } = this.ctx.config;
    const fault = compileNoSpaceFault(result, tmpDir, shortOfSpace(tmpDir, minFreeSpaceBytes));
    if (fault !== undefined) {
      this.serverFault(fault);
      return noSpaceResult(fault, result.stderr);
    }
    if (result.outcome === "timeout") {
      this.ctx.log.warning("dcc_collect_child", `job from ${this.peer} killed after --job-lifetime ${jobLifetimeSeconds}s`);
      this.ctx.stats.recordRefusal("job-lifetime");
    } else if (result.outcome === "oversized") {
      this.ctx.log.warning(
        "dcc_collect_child",
        `job from ${this.peer} stopped: compiler output over --max-output-bytes ${limits.maxOutputBytes}`,
      );
      this.ctx.stats.recordRefusal("max-output-bytes");
    }
    return result;
  }

  private noSpace(error: unknown, doing: string): JobResult | undefined {
    const fault = noSpaceFault(error, this.ctx.config.tmpDir, doing);
    if (fault === undefined) return undefined;
    this.serverFault(fault);
    return noSpaceResult(fault);
  }

  private serverFault(fault: ServerFaultError): void {
    this.ctx.log.error("dcc_no_space", `job from ${this.peer} lost: ${fault.message}`, { code: fault.code });
    this.ctx.stats.recordServerFault(fault.code);
  }

  private idle(): void {
    const what = this.leg === "reply" ? "did not read its reply" : "sent nothing";
    this.ctx.log.warning(
      "dcc_r_request",
      `client ${this.peer} ${what} for ${this.ctx.config.limits.idleTimeoutMs / 1000}s: dropped (idle timeout)`,
    );
    this.ctx.stats.recordRefusal("idle-timeout");
    this.drop();
  }

  private pastDeadline(): void {
    const what = this.leg === "reply" ? "did not read its whole reply within" : "did not send its whole request within";
    this.ctx.log.warning(
      "dcc_r_request",
      `client ${this.peer} ${what} ${this.ctx.config.limits.requestTimeoutMs / 1000}s: dropped (--request-timeout)`,
    );
    this.ctx.stats.recordRefusal("request-timeout");
    this.drop();
  }
}
