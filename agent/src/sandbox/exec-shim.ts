/**
 * @module The exec shim: the agent's own binary, started ahead of a job while its slot is idle.
 * It makes itself die with the agent, waits on stdin for one job, puts the job's files on fds
 * 0-2, confines itself with Landlock and execve()s the compiler, which keeps the shim's pid and
 * process group. Bun cannot run code between fork and exec; this is that code.
 */

import { ptr } from "bun:ffi";
import { readFileSync, writeSync } from "node:fs";
import { type LandlockRuleset, restrictSelf } from "./landlock.ts";
import {
  cString,
  cStringArray,
  errno,
  type Libc,
  O_CLOEXEC,
  O_CREAT,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  openLibc,
  PR_SET_PDEATHSIG,
} from "./libc.ts";

/** What the agent writes to a shim's stdin: one JSON object, then EOF. */
export interface ShimJob {
  readonly cmd: readonly string[];
  readonly cwd: string;
  /** `NAME=value` entries. */
  readonly env: readonly string[];
  readonly stdoutFile: string;
  readonly stderrFile: string;
  readonly ruleset?: LandlockRuleset;
}

/** distcc's exit codes: the compiler could not be started; the job could not be confined. */
const EXIT_EXEC_FAILED = 110;
const EXIT_SANDBOX_FAILED = 100;
const SIGKILL = 9;

function fail(code: number, message: string): never {
  writeSync(2, `distccd[${process.pid}] (dcc_exec_shim) ERROR: ${message}\n`);
  process.exit(code);
}

function openOnto(libc: Libc, path: string, flags: number, target: number): void {
  const name = cString(path);
  const fd = libc.open(ptr(name), flags | O_CLOEXEC, 0o600);
  if (fd < 0) fail(EXIT_EXEC_FAILED, `cannot open ${path}: errno ${errno(libc)}`);
  // dup2 leaves the copy without O_CLOEXEC: it is the only descriptor the compiler inherits.
  if (libc.dup2(fd, target) < 0) fail(EXIT_EXEC_FAILED, `dup2 onto fd ${target}: errno ${errno(libc)}`);
  libc.close(fd);
}

export async function runExecShim(args: readonly string[]): Promise<void> {
  const agentPid = Number(args[0]);
  // Everything that does not depend on the job happens here, before the job arrives.
  const libc = openLibc();
  libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // The agent may have died before the signal was armed.
  if (process.ppid !== agentPid) process.exit(1);
  const input = readFileSync(0, "utf8");
  // EOF with no job: the agent retired this shim.
  if (input.length === 0) process.exit(0);
  const job = JSON.parse(input) as ShimJob;
  openOnto(libc, job.stdoutFile, O_WRONLY | O_CREAT | O_TRUNC, 1);
  openOnto(libc, job.stderrFile, O_WRONLY | O_CREAT | O_TRUNC, 2);
  openOnto(libc, "/dev/null", O_RDONLY, 0);
  try {
    process.chdir(job.cwd);
  } catch (error) {
    fail(EXIT_EXEC_FAILED, `cannot enter ${job.cwd}: ${(error as Error).message}`);
  }
  if (job.ruleset !== undefined) {
    try {
      restrictSelf(libc, job.ruleset);
    } catch (error) {
      fail(EXIT_SANDBOX_FAILED, `cannot confine the compiler: ${(error as Error).message}`);
    }
  }
  const keep: Buffer[] = [];
  const path = cString(job.cmd[0] as string);
  const argv = cStringArray(job.cmd, keep);
  const envp = cStringArray(job.env, keep);
  libc.execve(ptr(path), ptr(argv), ptr(envp));
  fail(EXIT_EXEC_FAILED, `failed to exec ${job.cmd[0]}: errno ${errno(libc)}`);
}
