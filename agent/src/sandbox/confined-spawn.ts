/**
 * @module The start-up of confinement once decided (sandbox-state.ts): logs what is enforced and
 * gives the server its SpawnFn, through the shim pool when confined, plain Bun.spawn otherwise.
 */
import type { CompilerWhitelist } from "../compiler-whitelist.ts";
import { type SpawnFn, spawnProcess } from "../job/spawn.ts";
import type { Logger } from "../log.ts";
import { describeSandbox, type SandboxStatus } from "./sandbox-state.ts";
import { ShimPool } from "./shim-pool.ts";

export interface Sandbox {
  readonly status: SandboxStatus;
  readonly spawn: SpawnFn;
  /** Ends the idle shims when the server stops. */
  stop(): void;
}

export interface SandboxOptions {
  /** Shims kept ready, one per job slot. */
  readonly slots: number;
  /**
   * Find the whitelisted toolchains at start-up (a daemon). An inetd server lives for one job:
   * it asks only that job's compiler.
   */
  readonly ahead: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly tmpDir: string;
  readonly whitelist: CompilerWhitelist;
  readonly log: Logger;
}

/** Logs what `status` (from decideSandbox) enforces and sets up the SpawnFn for it. */
export function startSandbox(status: SandboxStatus, options: SandboxOptions): Sandbox {
  const line = describeSandbox(status);
  if (status.enforced || status.mode === "off") options.log.notice("dcc_sandbox", line);
  else options.log.warning("dcc_sandbox", line);
  if (!status.enforced) return { status, spawn: spawnProcess, stop() {} };
  const compilers = new Set<string>();
  for (const name of options.ahead ? options.whitelist.names : []) {
    const decision = options.whitelist.check(name);
    if (decision.allowed && decision.path !== undefined) compilers.add(decision.path);
  }
  const pool = new ShimPool({ size: options.slots, abi: status.abi, env: options.env, tmpDir: options.tmpDir, compilers: [...compilers] });
  return { status, spawn: pool.spawn, stop: () => pool.stop() };
}
