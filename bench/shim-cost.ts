/**
 * What the exec shim costs a job, measured on the agent's own binary: a shim started ahead and
 * handed a job that runs /bin/true under the PowerPC compiler's full Landlock ruleset, against
 * Bun.spawn running /bin/true directly (the unconfined path). Wall is from handing the job (or
 * spawning) to the exit; CPU is the shim's own, split into its start (spent while the slot is
 * idle) and the job (reading it, opening its files, the ruleset, execve).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { handledFs, READ_WRITE } from "../agent/src/sandbox/landlock.ts";
import { EXEC_SHIM_MODE } from "../agent/src/sandbox/shim-mode.ts";
import { jobRules, toolchainRules, withoutCovered } from "../agent/src/sandbox/toolchain-rules.ts";
import { median } from "./median.ts";

export interface ShimCost {
  /** Milliseconds from handing the job to /bin/true's exit, shim minus direct spawn. */
  readonly wallAddedMs: number;
  readonly wallShimMs: number;
  readonly wallDirectMs: number;
  /** CPU of the shim up to the job (Bun's start, dlopen, prctl, warm-up, the toolchain's rules): off the job's critical path. */
  readonly cpuStartMs: number;
  /** CPU from the job to execve (parse, open, the job dir's rules, restrict, execve). */
  readonly cpuJobMs: number;
  /** The same, unconfined (no rules, no restrict): what confinement adds on the job's path. */
  readonly cpuJobNoRulesMs: number;
  /** Everything the shim adds to a job's CPU, start and job (the /bin/true itself excluded). */
  readonly cpuTotalMs: number;
  readonly rules: number;
  /** CPU of an empty Bun program compiled the same way, started and exited: the floor of any shim. */
  readonly bunStartMs: number;
  /** A shim's private memory while it waits (KiB). */
  readonly idleAnonKiB: number;
}

const ABI = 7;

/** An empty program, compiled as the agent is, run `runs` times: median CPU in ms. */
async function bunStartMs(dir: string, runs: number): Promise<number> {
  writeFileSync(join(dir, "empty.ts"), "process.exit(0);\n");
  const bun = join(import.meta.dir, "../node_modules/.bin/bun");
  const build = Bun.spawnSync([
    bun,
    "build",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    join(dir, "empty.ts"),
    "--outfile",
    join(dir, "empty"),
  ]);
  if (build.exitCode !== 0) throw new Error(build.stderr.toString());
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const proc = Bun.spawn([join(dir, "empty")], { stdin: "ignore", stdout: "ignore", stderr: "ignore", env: {} });
    await proc.exited;
    const usage = proc.resourceUsage();
    if (usage) cpu.push(Number(usage.cpuTime.user + usage.cpuTime.system) / 1000);
  }
  return median(cpu);
}

function runtimeMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
}

function anonKiB(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/RssAnon:\s+(\d+)/)?.[1] ?? 0);
}

async function waitIdle(pid: number): Promise<void> {
  // Ready: blocked on its stdin with the runtime no longer moving.
  let last = -1;
  for (let tries = 0; tries < 200; tries++) {
    await Bun.sleep(10);
    const now = runtimeMs(pid);
    if (now === last && readFileSync(`/proc/${pid}/stat`, "utf8").includes(") S ")) return;
    last = now;
  }
}

export async function measureShimCost(agentBinary: string, compiler: string, runs: number): Promise<ShimCost> {
  const dir = mkdtempSync(join(tmpdir(), "shim-cost-"));
  // As the pool does: the toolchain's rules on the shim's command line, built while it is idle;
  // the job brings only its own dir's.
  const toolchain = withoutCovered(await toolchainRules(Bun.which(compiler) ?? compiler, process.env, tmpdir()));
  const ruleset = { abi: ABI, rules: jobRules(dir, READ_WRITE & handledFs(ABI)) };
  const job = (withRules: boolean) =>
    JSON.stringify({
      cmd: ["/bin/true"],
      cwd: dir,
      env: [],
      stdoutFile: join(dir, "stdout"),
      stderrFile: join(dir, "stderr"),
      ...(withRules ? { ruleset } : {}),
    });
  const trueCpu: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const proc = Bun.spawn(["/bin/true"], {
      stdin: "ignore",
      stdout: Bun.file(join(dir, "o")),
      stderr: Bun.file(join(dir, "e")),
      detached: true,
    });
    await proc.exited;
    direct.push(performance.now() - start);
    const usage = proc.resourceUsage();
    if (usage) trueCpu.push(Number(usage.cpuTime.user + usage.cpuTime.system) / 1000);
  }
  const shim = { wall: [] as number[], start: [] as number[], job: [] as number[], bare: [] as number[], anon: [] as number[] };
  for (let i = 0; i < runs * 2; i++) {
    const withRules = i % 2 === 0;
    const prepared = withRules ? [JSON.stringify(toolchain)] : [];
    const proc = Bun.spawn([agentBinary, EXEC_SHIM_MODE, String(process.pid), String(ABI), ...prepared], {
      stdin: "pipe",
      stdout: "ignore",
      stderr: "inherit",
      detached: true,
      env: {},
    });
    await waitIdle(proc.pid);
    const started = runtimeMs(proc.pid);
    shim.anon.push(anonKiB(proc.pid));
    const start = performance.now();
    proc.stdin.write(job(withRules));
    void proc.stdin.end();
    await proc.exited;
    const wall = performance.now() - start;
    const usage = proc.resourceUsage();
    const total = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1000 : Number.NaN;
    const jobCpu = total - started - median(trueCpu);
    if (withRules) {
      shim.wall.push(wall);
      shim.start.push(started);
      shim.job.push(jobCpu);
    } else shim.bare.push(jobCpu);
  }
  const emptyStart = await bunStartMs(dir, runs);
  rmSync(dir, { recursive: true, force: true });
  const cpuStartMs = median(shim.start);
  const cpuJobMs = median(shim.job);
  return {
    wallAddedMs: median(shim.wall) - median(direct),
    wallShimMs: median(shim.wall),
    wallDirectMs: median(direct),
    cpuStartMs,
    cpuJobMs,
    cpuJobNoRulesMs: median(shim.bare),
    cpuTotalMs: cpuStartMs + cpuJobMs,
    rules: toolchain.length + ruleset.rules.length,
    bunStartMs: emptyStart,
    idleAnonKiB: median(shim.anon),
  };
}

if (import.meta.main) console.log(await measureShimCost(join(import.meta.dir, "../dist/distccd"), "powerpc-linux-gnu-gcc", 20));
