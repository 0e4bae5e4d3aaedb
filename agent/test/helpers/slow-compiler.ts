/**
 * A whitelisted compiler that takes its time: `slow-gcc` records the pid of its `sleep` (a child
 * in the compiler's process group, as cc1 and as are), sleeps SLOW_SECONDS, then runs the real
 * cross gcc. Tests use it to have a job running while they
 * disconnect, time out, drain or fill the queue, and to check that its process group is gone.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentOptions, sharedTempDir } from "./agent.ts";
import { GCC, GXX } from "./toolchain.ts";

export interface SlowCompiler {
  readonly name: "slow-gcc";
  /** The pid of the last sleep started, or undefined. */
  sleepPid(): number | undefined;
  /** The pids of every sleep started, oldest first. */
  sleepPids(): number[];
  /**
   * Options for startAgent: this compiler first on PATH, a whitelist naming the image's compilers
   * and slow-gcc, the sleep's length and pid file in the environment; then `args`.
   */
  agentOptions(seconds: number, args?: readonly string[]): AgentOptions;
}

export function slowCompiler(): SlowCompiler {
  const dir = sharedTempDir("slow-cc-");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  chmodSync(bin, 0o755);
  const pidFile = join(dir, "sleep.pid");
  writeFileSync(
    join(bin, "slow-gcc"),
    `#!/bin/sh\nsleep "$SLOW_SECONDS" &\necho $! >> "$SLOW_PID_FILE"\nwait\nexec powerpc-linux-gnu-gcc "$@"\n`,
  );
  chmodSync(join(bin, "slow-gcc"), 0o755);
  const whitelist = join(dir, "whitelist");
  writeFileSync(whitelist, `${GCC}\n${GXX}\nslow-gcc\n`, { mode: 0o644 });
  const env = (seconds: number) => ({ SLOW_SECONDS: String(seconds), SLOW_PID_FILE: pidFile });
  return {
    name: "slow-gcc",
    agentOptions: (seconds, args = []) => ({ extraPath: bin, env: env(seconds), args: ["--whitelist", whitelist, ...args] }),
    sleepPid() {
      return this.sleepPids().at(-1);
    },
    sleepPids() {
      try {
        return readFileSync(pidFile, "utf8").split("\n").filter(Boolean).map(Number);
      } catch {
        return [];
      }
    },
  };
}
