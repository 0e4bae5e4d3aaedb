/**
 * @module The confined SpawnFn: every compiler starts through confined-exec (vfork, confine,
 * exec) under a ruleset made for its job, its compiler's toolchain and its own job dir, so no
 * job can reach another's files. A toolchain is asked of its compiler once (the whitelisted ones
 * at start-up); a job whose compiler is still being asked waits for it.
 */
import { closeSync, openSync } from "node:fs";
import type { RunningProcess, SpawnFn, SpawnRequest } from "../job/spawn.ts";
import { childExit, watchChildExits } from "./child-exits.ts";
import type { ConfinedExec } from "./confined-exec.ts";
import { addRules, createRuleset, handledFs, READ_WRITE } from "./landlock.ts";
import { type Libc, openLibc } from "./libc.ts";
import { jobRules, type PathRule, toolchainRules, withoutCovered } from "./toolchain-rules.ts";

export interface LandlockSpawnerOptions {
  /** The Landlock ABI to confine with. */
  readonly abi: number;
  /** The compilers' environment, for asking them where their toolchain lives. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the job dirs are: never readable by a compiler but inside its own job dir. */
  readonly tmpDir: string;
  /** The whitelisted compilers, resolved: their toolchains are found at start-up. */
  readonly compilers: readonly string[];
}

export class LandlockSpawner {
  private readonly libc: Libc = openLibc();
  private readonly asked = new Map<string, Promise<PathRule[]>>();
  private readonly known = new Map<string, readonly PathRule[]>();
  private readonly devNull = openSync("/dev/null", "r");

  constructor(
    private readonly exec: ConfinedExec,
    private readonly options: LandlockSpawnerOptions,
  ) {
    watchChildExits();
    for (const compiler of options.compilers) void this.toolchain(compiler);
  }

  readonly spawn: SpawnFn = (request) => {
    const executable = request.cmd[0] as string;
    const rules = this.known.get(executable);
    return rules !== undefined ? this.start(request, rules) : this.toolchain(executable).then((found) => this.start(request, found));
  };

  stop(): void {
    closeSync(this.devNull);
  }

  private toolchain(executable: string): Promise<PathRule[]> {
    let rules = this.asked.get(executable);
    if (rules === undefined) {
      // A toolchain that cannot be read grants nothing: the compile then fails, confined.
      rules = toolchainRules(executable, this.options.env, this.options.tmpDir)
        .then(withoutCovered)
        .catch(() => []);
      void rules.then((found) => this.known.set(executable, found));
      this.asked.set(executable, rules);
    }
    return rules;
  }

  private start(request: SpawnRequest, toolchain: readonly PathRule[]): RunningProcess {
    const { abi } = this.options;
    const env: string[] = [];
    for (const [name, value] of Object.entries(request.env)) if (value !== undefined) env.push(`${name}=${value}`);
    const rulesetFd = createRuleset(this.libc, abi);
    let pid: number;
    try {
      addRules(this.libc, rulesetFd, { abi, rules: toolchain });
      addRules(this.libc, rulesetFd, { abi, rules: jobRules(request.jobDir, READ_WRITE & handledFs(abi)) });
      pid = this.exec.spawn(request.cmd, env, request.cwd, [this.devNull, request.stdoutFd, request.stderrFd], rulesetFd);
    } finally {
      this.libc.close(rulesetFd);
    }
    return {
      pid,
      exited: childExit(pid),
      killGroup(signal) {
        try {
          process.kill(-pid, signal);
        } catch {
          // The group is already gone.
        }
      },
    };
  }
}
