/**
 * Times the compiler itself under either server. A wrapper named like the compiler, first on
 * the servers' DISTCCD_PATH (both servers look compilers up there), prints each compile's start
 * and end on its stderr, which comes back to the client; the pool hands each client's stderr to
 * record(). (A confined compiler can write no file outside its job, so there is no log file.)
 * A job's time minus its compile is what the client and the server add around the compiler: the
 * part a server controls, without the compiler's own swings, which are most of a wall time's noise.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CompilerClock {
  /** Environment for a server: its compilers run through the wrapper. */
  serverEnv(server: string): Record<string, string>;
  /** Takes the compile times out of one client's stderr. */
  record(server: string, stderr: string): void;
  /** Forgets the compiles logged so far for `server`. */
  reset(server: string): void;
  /** Seconds spent in the compiler by the jobs of `server` since its last reset. */
  compileSeconds(server: string): number;
}

const MARK = "distcc-bench-compile";

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
    `#!/bin/bash\nstart=$EPOCHREALTIME\n${real} "$@"\nstatus=$?\necho "${MARK} $start $EPOCHREALTIME" >&2\nexit $status\n`,
  );
  chmodSync(wrapper, 0o755);
  const seconds = new Map<string, number>();
  return {
    serverEnv(server) {
      seconds.set(server, 0);
      return { DISTCCD_PATH: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}` };
    },
    record(server, stderr) {
      for (const match of stderr.matchAll(new RegExp(`^${MARK} (\\S+) (\\S+)$`, "gm"))) {
        const [start, end] = [match[1], match[2]].map((field) => Number((field as string).replace(",", ".")));
        if (Number.isFinite(start) && Number.isFinite(end))
          seconds.set(server, (seconds.get(server) ?? 0) + (end as number) - (start as number));
      }
    },
    reset(server) {
      seconds.set(server, 0);
    },
    compileSeconds: (server) => seconds.get(server) ?? 0,
  };
}
