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
import { jobRules, type PathRule, toolchainRules, withoutCovered } from "./toolchain-rules.ts";

type Shim = Subprocess<"pipe", "ignore", "inherit">;

/** The whitelisted compilers' toolchain rules, which every shim started after start-up holds already. */
interface Prepared {
  readonly executables: ReadonlySet<string>;
  readonly rules: readonly PathRule[];
}

/** The agent's own binary, or Bun with the entry module when run from source. */
function shimCommand(abi: number, prepared: Prepared | undefined): string[] {
  const compiled = (process.argv[1] ?? "").startsWith("/$bunfs/");
  const self = compiled ? [process.execPath] : [process.execPath, resolve(import.meta.dir, "../entry.ts")];
  return [...self, EXEC_SHIM_MODE, String(process.pid), String(abi), ...(prepared ? [JSON.stringify(prepared.rules)] : [])];
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
  /** The whitelisted compilers, resolved: their rules are found at start-up and built into every shim ahead. */
  readonly compilers: readonly string[];
}

export class ShimPool {
  private readonly idle: Shim[] = [];
  /** What each shim was started with. */
  private readonly preparedFor = new WeakMap<Shim, Prepared>();
  private readonly toolchains = new Map<string, Promise<PathRule[]>>();
  private prepared: Prepared | undefined;
  private stopped = false;

  constructor(private readonly options: ShimPoolOptions) {
    // The first shims start once the toolchains are known, which is also after start-up: they
    // must inherit --nice, applied after the pool exists. A job before that starts its own.
    void Promise.all(options.compilers.map((compiler) => this.prepare(compiler))).then((rules) => {
      this.prepared = { executables: new Set(options.compilers), rules: withoutCovered(rules.flat()) };
      this.refill();
    });
  }

  /** Finds a compiler's toolchain ahead of its first job (start-up, for the whitelisted ones). */
  prepare(executable: string): Promise<PathRule[]> {
    let rules = this.toolchains.get(executable);
    if (rules === undefined) {
      // A toolchain that cannot be read grants nothing: the compile then fails, confined.
      rules = toolchainRules(executable, this.options.env, this.options.tmpDir).catch(() => []);
      this.toolchains.set(executable, rules);
    }
    return rules;
  }

  readonly spawn: SpawnFn = (request) => {
    const shim = this.idle.shift() ?? this.start();
    // The next job's shim starts once this job is on its way, not before it.
    if (this.prepared !== undefined) setImmediate(() => this.refill());
    const executable = request.cmd[0] as string;
    if (this.preparedFor.get(shim)?.executables.has(executable)) this.hand(shim, request, []);
    else void this.prepare(executable).then((rules) => this.hand(shim, request, rules));
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
    const prepared = this.prepared;
    const shim: Shim = Bun.spawn(shimCommand(this.options.abi, prepared), {
      stdin: "pipe",
      stdout: "ignore",
      stderr: "inherit",
      detached: true,
      env: {},
    });
    if (prepared !== undefined) this.preparedFor.set(shim, prepared);
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
