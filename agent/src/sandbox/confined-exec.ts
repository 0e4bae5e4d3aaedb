/**
 * @module confined-exec.c compiled in memory by bun:ffi's `cc` (TinyCC, inside Bun) and called
 * through bun:ffi: starts a compiler confined to a Landlock ruleset, at the cost of a vfork and
 * an exec, like Bun.spawn (an exec shim started per job cost a whole Bun start: 8-17 ms of CPU).
 * Compiled once per process; the source is written to a private temp dir for it (TinyCC reads a
 * file, and the embedded one is not on disk), then removed. The C includes no headers.
 */
import { cc, ptr } from "bun:ffi";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { reapExited } from "./child-exits.ts";
import source from "./confined-exec.c" with { type: "text" };
import { errnoName } from "./landlock.ts";
import { cString, cStringArray } from "./libc.ts";

export interface ConfinedExec {
  /**
   * Starts `cmd` in `cwd` with `env` (`NAME=value`), fds 0-2 from `stdio`, confined to the ruleset
   * fd (or unconfined with -1). Returns the pid (its own session: pid = process group); throws
   * with the failed step when the child could not become the compiler.
   */
  spawn(cmd: readonly string[], env: readonly string[], cwd: string, stdio: readonly [number, number, number], rulesetFd: number): number;
  /** Whether a child may confine itself to `rulesetFd` (the start-up probe); the failure, else undefined. */
  tryRestrict(rulesetFd: number): string | undefined;
}

const STEPS: Record<number, string> = {
  1: "setsid",
  2: "the agent exited",
  3: "chdir",
  4: "prctl(PR_SET_NO_NEW_PRIVS)",
  5: "landlock_restrict_self",
  6: "setting up fds 0-2",
  7: "execve",
};

export class ConfinedExecError extends Error {
  constructor(
    readonly step: number,
    readonly errno: number,
  ) {
    super(step === 7 ? errnoText(errno) : `${STEPS[step] ?? `step ${step}`} failed: ${errnoName(errno)}`);
  }
}

/** What the unconfined path says when exec fails (Bun.spawn's messages), so both read alike. */
function errnoText(errno: number): string {
  if (errno === 2) return "No such file or directory";
  if (errno === 13) return "Permission denied";
  return `execve failed: ${errnoName(errno)}`;
}

const SIGNATURE = {
  confined_spawn: {
    args: ["ptr", "ptr", "ptr", "ptr", "i32", "i32", "i32", "i32", "i32", "ptr"],
    returns: "i32",
  },
} as const;

/**
 * Where bun:ffi's cc stages TinyCC's runtime headers: `bun-cc-<uid>` in Bun's temp dir, which is
 * the agent's TMPDIR, among the job dirs. A dir it made for this start is removed after it.
 */
function ccHeaderDir(): string {
  const env = process.env;
  const base = env.BUN_TMPDIR || env.TMPDIR || env.TMP || env.TEMP || "/tmp";
  return join(base, `bun-cc-${process.getuid?.() ?? 0}`);
}

/** Compiles the C; throws where bun:ffi cannot (the sandbox is then not enforced). */
export function loadConfinedExec(tmpDir: string): ConfinedExec {
  const dir = mkdtempSync(join(tmpDir, "distccd-exec-"));
  const headers = ccHeaderDir();
  const headersMade = !existsSync(headers);
  let library: ReturnType<typeof cc<typeof SIGNATURE>>;
  try {
    const file = join(dir, "confined-exec.c");
    writeFileSync(file, source, { mode: 0o600 });
    library = cc({ source: file, symbols: SIGNATURE });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (headersMade) rmSync(headers, { recursive: true, force: true });
  }
  const { confined_spawn } = library.symbols;
  const failure = new Int32Array(2);
  const call = (
    path: Buffer | null,
    argv: BigUint64Array | null,
    envp: BigUint64Array | null,
    cwd: Buffer | null,
    stdio: readonly number[],
    rulesetFd: number,
  ) => {
    failure.fill(0);
    const pid = confined_spawn(
      path && ptr(path),
      argv && ptr(argv),
      envp && ptr(envp),
      cwd && ptr(cwd),
      stdio[0] ?? -1,
      stdio[1] ?? -1,
      stdio[2] ?? -1,
      rulesetFd,
      process.pid,
      ptr(failure),
    );
    return { pid, step: failure[0] ?? 0, errno: failure[1] ?? 0 };
  };
  return {
    spawn(cmd, env, cwd, stdio, rulesetFd) {
      const keep: Buffer[] = [];
      const result = call(cString(cmd[0] as string), cStringArray(cmd, keep), cStringArray(env, keep), cString(cwd), stdio, rulesetFd);
      if (result.pid < 0) throw new Error("vfork failed");
      if (result.step !== 0) {
        reapExited(result.pid);
        throw new ConfinedExecError(result.step, result.errno);
      }
      return result.pid;
    },
    tryRestrict(rulesetFd) {
      const result = call(null, null, null, null, [], rulesetFd);
      if (result.pid < 0) return "vfork failed";
      reapExited(result.pid);
      return result.step === 0 ? undefined : new ConfinedExecError(result.step, result.errno).message;
    },
  };
}
