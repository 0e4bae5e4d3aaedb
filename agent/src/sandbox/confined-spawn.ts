/**
 * @module The start-up of confinement: decides what `--sandbox` gets on this kernel, logs it,
 * refuses to start when `required` cannot be met, and gives the server its SpawnFn (through the
 * shim pool when confined, plain Bun.spawn otherwise).
 */
import type { CompilerWhitelist } from "../compiler-whitelist.ts";
import { type SpawnFn, spawnProcess } from "../job/spawn.ts";
import type { Logger } from "../log.ts";
import { checkRequired, decideSandbox, describeSandbox, type SandboxMode, type SandboxStatus } from "./sandbox-state.ts";
import { ShimPool } from "./shim-pool.ts";

export interface Sandbox {
  readonly status: SandboxStatus;
  readonly spawn: SpawnFn;
  /** Ends the idle shims when the server stops. */
  stop(): void;
}

export interface SandboxOptions {
  readonly mode: SandboxMode;
  /** The test seam: an older ABI or a refused syscall (see probe.ts). */
  readonly simulate: string | undefined;
  /** Shims kept ready, one per job slot. */
  readonly slots: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly tmpDir: string;
  readonly whitelist: CompilerWhitelist;
  readonly log: Logger;
}

/** Throws ConfigError (E_CONFIG_SANDBOX) when `--sandbox required` cannot be met. */
export function startSandbox(options: SandboxOptions): Sandbox {
  const status = decideSandbox(options.mode, options.simulate);
  checkRequired(status);
  const line = describeSandbox(status);
  if (status.enforced || status.mode === "off") options.log.notice("dcc_sandbox", line);
  else options.log.warning("dcc_sandbox", line);
  if (!status.enforced) return { status, spawn: spawnProcess, stop() {} };
  const pool = new ShimPool({ size: options.slots, abi: status.abi, env: options.env, tmpDir: options.tmpDir });
  for (const name of options.whitelist.names) {
    const decision = options.whitelist.check(name);
    if (decision.allowed && decision.path !== undefined) void pool.prepare(decision.path);
  }
  return { status, spawn: pool.spawn, stop: () => pool.stop() };
}
