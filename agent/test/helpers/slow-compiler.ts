/**
 * A whitelisted compiler that takes its time: `slow-gcc` records the pid of its `sleep`, sleeps
 * SLOW_SECONDS, then runs the real cross gcc. Tests use it to have a job running while they
 * disconnect, time out, drain or fill the queue, and to check that its process group is gone.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sharedTempDir } from "./agent.ts";
import { GCC, GXX } from "./toolchain.ts";

export interface SlowCompiler {
  readonly name: "slow-gcc";
  /** Put first on the agent's PATH. */
  readonly bin: string;
  /** A whitelist naming the image's compilers and slow-gcc. */
  readonly whitelist: string;
  /** Environment for the agent: where the sleep's pid goes, and how long it sleeps. */
  env(seconds: number): Record<string, string>;
  /** The pid of the last sleep started, or undefined. */
  sleepPid(): number | undefined;
}

export function slowCompiler(): SlowCompiler {
  const dir = sharedTempDir("slow-cc-");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  chmodSync(bin, 0o755);
  const pidFile = join(dir, "sleep.pid");
  writeFileSync(
    join(bin, "slow-gcc"),
    `#!/bin/sh\nsleep "$SLOW_SECONDS" &\necho $! > "$SLOW_PID_FILE"\nwait\nexec powerpc-linux-gnu-gcc "$@"\n`,
  );
  chmodSync(join(bin, "slow-gcc"), 0o755);
  const whitelist = join(dir, "whitelist");
  writeFileSync(whitelist, `${GCC}\n${GXX}\nslow-gcc\n`, { mode: 0o644 });
  return {
    name: "slow-gcc",
    bin,
    whitelist,
    env: (seconds) => ({ SLOW_SECONDS: String(seconds), SLOW_PID_FILE: pidFile }),
    sleepPid() {
      try {
        return Number(readFileSync(pidFile, "utf8").trim()) || undefined;
      } catch {
        return undefined;
      }
    },
  };
}
