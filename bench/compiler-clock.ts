/**
 * Times the compiler itself under either server. A wrapper named like the compiler, first on
 * the servers' DISTCCD_PATH (both servers look compilers up there), appends each compile's
 * start and end to a log of that server's. A job's time minus its compile is what the client
 * and the server add around the compiler: the part a server controls, without the compiler's
 * own swings, which are most of a wall time's noise.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CompilerClock {
  /** Environment for a server: its compilers run through the wrapper and log to its own file. */
  serverEnv(server: string): Record<string, string>;
  /** Forgets the compiles logged so far for `server`. */
  reset(server: string): void;
  /** Seconds spent in the compiler by the jobs of `server` since its last reset. */
  compileSeconds(server: string): number;
}

export function compilerClock(work: string, compiler: string): CompilerClock {
  const real = Bun.which(compiler);
  if (real === null) throw new Error(`${compiler} is not on PATH`);
  const dir = join(work, "timed-compiler");
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const wrapper = join(dir, compiler);
  // bash's EPOCHREALTIME reads the clock without starting a process.
  writeFileSync(
    wrapper,
    `#!/bin/bash\nstart=$EPOCHREALTIME\n${real} "$@"\nstatus=$?\necho "$start $EPOCHREALTIME" >> "$BENCH_COMPILE_LOG"\nexit $status\n`,
  );
  chmodSync(wrapper, 0o755);
  // The servers run their compilers as an unprivileged user.
  const log = (server: string) => join(dir, `${server}.log`);
  const reset = (server: string) => {
    writeFileSync(log(server), "");
    chmodSync(log(server), 0o666);
  };
  return {
    serverEnv(server) {
      reset(server);
      const path = `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}`;
      return { DISTCCD_PATH: path, BENCH_COMPILE_LOG: log(server) };
    },
    reset,
    compileSeconds(server) {
      let seconds = 0;
      for (const line of readFileSync(log(server), "utf8").split("\n")) {
        const [start, end] = line.split(" ").map((field) => Number(field.replace(",", ".")));
        if (start !== undefined && end !== undefined && Number.isFinite(start) && Number.isFinite(end)) seconds += end - start;
      }
      return seconds;
    },
  };
}
