/**
 * @module The start-up of confinement once decided (sandbox-state.ts): logs what is enforced and
 * gives the server its SpawnFn, confined through the LandlockSpawner, plain Bun.spawn otherwise.
 */
import type { CompilerWhitelist } from "../compiler-whitelist.ts";
import { type SpawnFn, spawnProcess } from "../job/spawn.ts";
import type { Logger } from "../log.ts";
import { LandlockSpawner } from "./landlock-spawner.ts";
import { describeSandbox, type SandboxDecision, type SandboxStatus } from "./sandbox-state.ts";

export interface Sandbox {
  readonly status: SandboxStatus;
  readonly spawn: SpawnFn;
  /** Releases what the spawner holds when the server stops. */
  stop(): void;
}

export interface SandboxOptions {
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

/** Logs what the decision (from decideSandbox) enforces and sets up the SpawnFn for it. */
export function startSandbox({ status, exec }: SandboxDecision, options: SandboxOptions): Sandbox {
  const line = describeSandbox(status);
  if (status.enforced || status.mode === "off") options.log.notice("dcc_sandbox", line);
  else options.log.warning("dcc_sandbox", line);
  // exec is there exactly when confinement is enforced (SandboxDecision).
  if (exec === undefined) return { status, spawn: spawnProcess, stop() {} };
  const compilers = new Set<string>();
  for (const name of options.ahead ? options.whitelist.names : []) {
    const decision = options.whitelist.check(name);
    if (decision.allowed && decision.path !== undefined) compilers.add(decision.path);
  }
  const spawner = new LandlockSpawner(exec, { abi: status.abi, env: options.env, tmpDir: options.tmpDir, compilers: [...compilers] });
  return { status, spawn: spawner.spawn, stop: () => spawner.stop() };
}
