/**
 * @module The exec shim: the agent's own binary, started ahead of a job while its slot is idle.
 * It makes itself die with the agent, builds the Landlock ruleset of the whitelisted toolchains
 * (given on its command line), waits on stdin for one job, puts the job's files on fds 0-2, adds
 * the job's own rules, confines itself and execve()s the compiler, which keeps the shim's pid and
 * process group. Bun cannot run code between fork and exec; this is that code.
 */

import { ptr } from "bun:ffi";
import { readFileSync, writeSync } from "node:fs";
import { addRules, createRuleset, enforce, FS, type LandlockRuleset } from "./landlock.ts";
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
  /** The job's rules (its dir; its compiler's toolchain when the shim was not started with it); none: unconfined. */
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

/**
 * Runs the job's code paths once on a dummy job, while the slot is idle: the first run of any
 * code (JSON, Buffer, the FFI calls) costs far more than the next, and it is not the job's to pay.
 */
function warmUp(libc: Libc, abi: number): void {
  const job = JSON.parse(
    JSON.stringify({ cmd: ["/bin/true"], env: ["A=b"], ruleset: { abi, rules: [{ path: "/dev/null", access: FS.READ_FILE }] } }),
  ) as ShimJob;
  if (abi > 0 && job.ruleset !== undefined) {
    const fd = createRuleset(libc, abi);
    addRules(libc, fd, job.ruleset);
    libc.close(fd);
  }
  const name = cString("/dev/null");
  libc.close(libc.open(ptr(name), O_RDONLY | O_CLOEXEC, 0));
  const keep: Buffer[] = [];
  ptr(cStringArray(job.cmd, keep));
  ptr(cStringArray(job.env, keep));
  process.chdir(process.cwd());
}

export async function runExecShim(args: readonly string[]): Promise<void> {
  const agentPid = Number(args[0]);
  // Everything that does not depend on the job happens here, before the job arrives.
  const libc = openLibc();
  libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // The agent may have died before the signal was armed.
  if (process.ppid !== agentPid) process.exit(1);
  const abi = Number(args[1] ?? 0);
  warmUp(libc, abi);
  let rulesetFd: number | undefined;
  try {
    if (abi > 0 && args[2] !== undefined) {
      rulesetFd = createRuleset(libc, abi);
      addRules(libc, rulesetFd, { abi, rules: JSON.parse(args[2]) });
    }
  } catch (error) {
    fail(EXIT_SANDBOX_FAILED, `cannot prepare the toolchain's rules: ${(error as Error).message}`);
  }
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
      rulesetFd ??= createRuleset(libc, job.ruleset.abi);
      addRules(libc, rulesetFd, job.ruleset);
      enforce(libc, rulesetFd);
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
