/**
 * A whitelisted compiler that takes its time: `slow-gcc` sleeps SLOW_SECONDS when it compiles
 * (not when the agent asks it for its toolchain), then runs the real cross gcc. A confined
 * compiler can write nothing outside its job, so the sleep is found in /proc by its argument,
 * a length unique to this compiler. Tests use it to have a job running while they
 * disconnect, time out, drain or fill the queue, and to check that its process group is gone.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentOptions, sharedTempDir } from "./agent.ts";
import { GCC, GXX } from "./toolchain.ts";

export interface SlowCompiler {
  readonly name: "slow-gcc";
  /** The pid of the last sleep started, or undefined. */
  sleepPid(): number | undefined;
  /** The pids of this compiler's sleeps running now (each a child in its compiler's process group). */
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
  writeFileSync(
    join(bin, "slow-gcc"),
    `#!/bin/sh\ncase " $* " in *" -c "*) sleep "$SLOW_SECONDS" ;; esac\nexec powerpc-linux-gnu-gcc "$@"\n`,
  );
  chmodSync(join(bin, "slow-gcc"), 0o755);
  const whitelist = join(dir, "whitelist");
  writeFileSync(whitelist, `${GCC}\n${GXX}\nslow-gcc\n`, { mode: 0o644 });
  const suffix = String(Math.floor(Math.random() * 1e6)).padStart(6, "0");
  const length = (seconds: number) => `${seconds}.${suffix}`;
  let lastLength = "";
  const env = (seconds: number) => {
    lastLength = length(seconds);
    return { SLOW_SECONDS: lastLength };
  };
  return {
    name: "slow-gcc",
    agentOptions: (seconds, args = []) => ({ extraPath: bin, env: env(seconds), args: ["--whitelist", whitelist, ...args] }),
    sleepPid() {
      return this.sleepPids().at(-1);
    },
    sleepPids() {
      return readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .filter((entry) => {
          try {
            return readFileSync(`/proc/${entry}/cmdline`, "latin1") === `sleep\0${lastLength}\0`;
          } catch {
            return false;
          }
        })
        .map(Number);
    },
  };
}
