/**
 * @module The confined SpawnFn: a pool of exec shims, one started ahead for every job slot, so
 * that a job's compiler starts with the time Bun takes to start already spent. A job is handed to
 * an idle shim on its stdin, and a new shim starts for the next job. The compiler is the shim
 * after execve: same pid, its own process group, killed with the agent (PR_SET_PDEATHSIG).
 */
import { resolve } from "node:path";
import type { FileSink, Subprocess } from "bun";
import { runningProcess, type SpawnFn, type SpawnRequest } from "../job/spawn.ts";
import type { ShimJob } from "./exec-shim.ts";
import { handledFs, READ_WRITE } from "./landlock.ts";
import { EXEC_SHIM_MODE } from "./shim-mode.ts";
import { jobRules, type PathRule, toolchainRules } from "./toolchain-rules.ts";

type Shim = Subprocess<"pipe", "ignore", "inherit">;

/** The agent's own binary, or Bun with the entry module when run from source. */
function shimCommand(): string[] {
  const compiled = (process.argv[1] ?? "").startsWith("/$bunfs/");
  const self = compiled ? [process.execPath] : [process.execPath, resolve(import.meta.dir, "../entry.ts")];
  return [...self, EXEC_SHIM_MODE, String(process.pid)];
}

export interface ShimPoolOptions {
  /** Idle shims kept ready: one per job slot. */
  readonly size: number;
  /** The Landlock ABI to confine with. */
  readonly abi: number;
  /** The compilers' environment, for asking them where their toolchain lives. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the job dirs are: never readable by a compiler but inside its own job dir. */
  readonly tmpDir: string;
}

export class ShimPool {
  private readonly idle: Shim[] = [];
  private readonly toolchains = new Map<string, Promise<PathRule[]>>();
  private readonly command = shimCommand();
  private stopped = false;

  constructor(private readonly options: ShimPoolOptions) {
    // Once start-up is done: the shims must inherit --nice, which is applied after the pool exists.
    setImmediate(() => this.refill());
  }

  /** Finds a compiler's toolchain ahead of its first job (start-up, for the whitelisted ones). */
  prepare(executable: string): Promise<PathRule[]> {
    let rules = this.toolchains.get(executable);
    if (rules === undefined) {
      rules = toolchainRules(executable, this.options.env, this.options.tmpDir);
      this.toolchains.set(executable, rules);
    }
    return rules;
  }

  readonly spawn: SpawnFn = (request) => {
    const shim = this.idle.shift() ?? this.start();
    // The next job's shim starts once this job is on its way, not before it.
    setImmediate(() => this.refill());
    void this.prepare(request.cmd[0] as string).then((rules) => this.hand(shim, request, rules));
    return runningProcess(shim);
  };

  /** Ends the idle shims (they exit on an empty stdin); running compilers are not touched. */
  stop(): void {
    this.stopped = true;
    for (const shim of this.idle.splice(0)) void shim.stdin.end();
  }

  private hand(shim: Shim, request: SpawnRequest, toolchain: PathRule[]): void {
    const env: string[] = [];
    for (const [name, value] of Object.entries(request.env)) if (value !== undefined) env.push(`${name}=${value}`);
    const job: ShimJob = {
      cmd: request.cmd,
      cwd: request.cwd,
      env,
      stdoutFile: request.stdoutFile,
      stderrFile: request.stderrFile,
      ruleset: { abi: this.options.abi, rules: [...toolchain, ...jobRules(request.jobDir, READ_WRITE & handledFs(this.options.abi))] },
    };
    const stdin: FileSink = shim.stdin;
    stdin.write(JSON.stringify(job));
    void stdin.end();
  }

  private start(): Shim {
    const shim: Shim = Bun.spawn(this.command, { stdin: "pipe", stdout: "ignore", stderr: "inherit", detached: true, env: {} });
    // A shim that dies while idle (killed by hand, out of memory) is never handed a job.
    void shim.exited.then(() => {
      const index = this.idle.indexOf(shim);
      if (index >= 0) this.idle.splice(index, 1);
    });
    return shim;
  }

  private refill(): void {
    while (!this.stopped && this.idle.length < this.options.size) this.idle.push(this.start());
  }
}
