/**
 * `make bench`: our dist/distccd against Debian's C distccd, side by side on loopback, driven
 * by the real distcc client. Runs alternate between the servers (A B A B ...), a warm-up first,
 * then RUNS counted runs per workload (LARGE_RUNS single compiles of the large unit). Prints a
 * table and writes bench/results.json and bench/ratios.svg. Never a pass/fail test: it measures.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { benchCache, type CacheResult, type CacheWorkload, cacheTable, generateCompileHeavy } from "./cache-bench.ts";
import { type Bar, barChart } from "./chart.ts";
import { clientEnv } from "./client-env.ts";
import { type CompilerClock, compilerClock } from "./compiler-clock.ts";
import { includeServer } from "./include-server.ts";
import { compareThroughput, type Throughput } from "./lzo-throughput.ts";
import { median } from "./median.ts";
import { readIntoPageCache, type Server, startServer } from "./servers.ts";
import { measureSpawnCost, type SpawnCost } from "./spawn-cost.ts";
import { generateWorkloads } from "./workloads.ts";

const ROOT = resolve(import.meta.dir, "..");
const WORK = join(ROOT, "bench/work");
const JOBS = 4;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** Comma-separated workload names, to rerun a few while profiling (default: all). */
const ONLY = process.env.BENCH_ONLY?.split(",");
/** How often server CPU is read during a run, so retiring C workers are still counted. */
const CPU_SAMPLE_MS = 100;
/**
 * Counted runs of the large unit, one compile each: a compile's time moves by 5% or more with
 * whatever else the machine is doing, and two compiles a second apart see the same moment, where
 * two runs of five compiles in a row (the previous design) did not. Five times the other
 * workloads' runs, about the same time in all.
 */
const LARGE_RUNS = RUNS * 5;
/** Debian's name: the C server finds it in /usr/lib/distcc, ours in its whitelist. */
const COMPILER = "powerpc-linux-gnu-gcc";
/** Workloads also run with our --sandbox off against ours confined (BENCH_ONLY name: `<workload>-sandbox`). */
const SANDBOX_WORKLOADS = ["small-p1", "small-p2"];

interface Workload {
  readonly name: string;
  readonly description: string;
  /** One distcc command line (after `distcc`) per job, run from the work dir. */
  readonly commands: readonly string[][];
  readonly parallel: number;
  readonly hostOptions: string;
  readonly pump: boolean;
  /**
   * Global client options before the hosts. The concurrency workload raises the client's local
   * cpp slots: with the default, clients that find none free sleep a whole second, on either
   * server, and the workload would measure those sleeps instead of the servers.
   */
  readonly clientOptions?: string;
  /** Counted runs per server, when not {@link RUNS}. */
  readonly runs?: number;
}

interface Sample {
  readonly wall: number;
  readonly cpuPerJob: number;
  /** Seconds a job spent outside the compiler (client and server), on average. */
  readonly aroundPerJob: number;
}

/** Runs the jobs `parallel` at a time; returns the seconds they took, added up. Each client's stderr goes to `onStderr`. */
async function runPool(
  commands: readonly string[][],
  parallel: number,
  env: Record<string, string>,
  onStderr: (text: string) => void,
): Promise<number> {
  let next = 0;
  let jobSeconds = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (next < commands.length) {
      const args = commands[next++] as string[];
      const start = performance.now();
      const proc = Bun.spawn(["distcc", ...args], { cwd: WORK, env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      jobSeconds += (performance.now() - start) / 1000;
      onStderr(stderr);
      if (code !== 0) failures.push(`distcc ${args.join(" ")} -> ${code}: ${stderr.slice(0, 400)}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  if (failures.length > 0) throw new Error(`${failures.length} job(s) failed:\n${failures.slice(0, 3).join("\n")}`);
  return jobSeconds;
}

async function measure(server: Server, workload: Workload, round: string, clock: CompilerClock): Promise<Sample> {
  const hosts = `${workload.clientOptions ?? ""} 127.0.0.1:${server.port}/${workload.parallel}${workload.hostOptions}`.trim();
  const distccDir = mkdtempSync(join(WORK, `distcc-${server.name}-`));
  const pump = workload.pump ? includeServer(hosts) : undefined;
  const out = join(WORK, "out", `${workload.name}-${server.name}-${round}`);
  mkdirSync(out, { recursive: true });
  const env = clientEnv(hosts, distccDir, pump);
  const commands = workload.commands.map((args, i) => [...args, "-o", join(out, `${i}.o`)]);
  // The previous run's objects, written and deleted, are flushed now, not during this run.
  Bun.spawnSync(["sync"]);
  clock.reset(server.name);
  const cpu = server.cpuSeconds();
  const start = performance.now();
  const sampler = setInterval(() => server.cpuSeconds(), CPU_SAMPLE_MS);
  let jobSeconds: number;
  try {
    jobSeconds = await runPool(commands, workload.parallel, env, (text) => clock.record(server.name, text));
  } finally {
    clearInterval(sampler);
    await pump?.stop();
  }
  const wall = (performance.now() - start) / 1000;
  const cpuPerJob = (server.cpuSeconds() - cpu) / commands.length;
  const aroundPerJob = (jobSeconds - clock.compileSeconds(server.name)) / commands.length;
  rmSync(out, { recursive: true, force: true });
  rmSync(distccDir, { recursive: true, force: true });
  return { wall, cpuPerJob, aroundPerJob };
}

async function main(): Promise<void> {
  const began = performance.now();
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const sources = generateWorkloads(WORK);
  const compile = (source: string, extra: string[] = []) => [COMPILER, "-O2", "-Ismall/include", ...extra, "-c", source];
  const workloads: Workload[] = [
    {
      name: "concurrent-64",
      description: "64 clients at once, tiny jobs, --jobs 4 (queueing), protocol 2",
      commands: Array.from({ length: 64 }, () => compile(sources.tiny)),
      parallel: 64,
      hostOptions: ",lzo",
      pump: false,
      clientOptions: "--localslots_cpp=64",
    },
    {
      name: "small-p1",
      description: "200 small units with system headers, -j4, protocol 1",
      commands: sources.small.map((s) => compile(s)),
      parallel: JOBS,
      hostOptions: "",
      pump: false,
    },
    {
      name: "small-p2",
      description: "the same, protocol 2 (LZO)",
      commands: sources.small.map((s) => compile(s)),
      parallel: JOBS,
      hostOptions: ",lzo",
      pump: false,
    },
    {
      name: "pump-p3",
      description: "the same, pump mode (protocol 3)",
      commands: sources.small.map((s) => compile(s)),
      parallel: JOBS,
      hostOptions: ",lzo,cpp",
      pump: true,
    },
    {
      name: "large-p1",
      description: "one unit of 5.5 MB preprocessed, one compile per run, protocol 1",
      commands: [compile(sources.large, ["-O0"])],
      parallel: 1,
      hostOptions: "",
      pump: false,
      runs: LARGE_RUNS,
    },
    {
      name: "large-p2",
      description: "the same, protocol 2 (LZO)",
      commands: [compile(sources.large, ["-O0"])],
      parallel: 1,
      hostOptions: ",lzo",
      pump: false,
      runs: LARGE_RUNS,
    },
  ];

  const heavy = generateCompileHeavy(WORK);
  const cacheWorkloads: CacheWorkload[] = [
    {
      name: "warm-small-p1",
      description: "small-p1 rebuilt through the cache",
      commands: sources.small.map((s) => compile(s)),
      hostOptions: "",
      pump: false,
    },
    {
      name: "warm-small-p2",
      description: "small-p2 rebuilt through the cache",
      commands: sources.small.map((s) => compile(s)),
      hostOptions: ",lzo",
      pump: false,
    },
    {
      name: "warm-pump-p3",
      description: "pump-p3 rebuilt through the cache",
      commands: sources.small.map((s) => compile(s)),
      hostOptions: ",lzo,cpp",
      pump: true,
    },
    {
      name: "warm-heavy-p2",
      description: "16 compile-dominated units (30 functions with loops each), -j4, protocol 2, rebuilt through the cache",
      commands: heavy.map((s) => compile(s)),
      hostOptions: ",lzo",
      pump: false,
    },
  ].filter((w) => !ONLY || ONLY.includes(w.name));
  let cacheResults: CacheResult[] = [];

  const agentBinary = join(ROOT, "dist/distccd");
  const clock = compilerClock(WORK, COMPILER);
  const options = { jobs: JOBS, compiler: COMPILER, work: WORK, agentBinary };
  const agent = await startServer("agent", { ...options, env: clock.serverEnv("agent") });
  const c = await startServer("c", { ...options, env: clock.serverEnv("c") });
  const unconfined = await startServer("agent-sandbox-off", { ...options, env: clock.serverEnv("agent-sandbox-off") });
  await Bun.sleep(1000);
  const idle = agent.memory();
  readIntoPageCache(agentBinary);
  const results: Record<string, unknown>[] = [];
  const sandboxResults: Record<string, number | string>[] = [];
  let concurrentPeakKiB = 0;
  try {
    for (const workload of workloads.filter((w) => !ONLY || ONLY.includes(w.name))) {
      const samples: Record<"agent" | "c", Sample[]> = { agent: [], c: [] };
      for (const server of [agent, c]) await measure(server, workload, "warmup", clock);
      const runs = workload.runs ?? RUNS;
      for (let round = 0; round < runs; round++) {
        for (const server of [agent, c]) samples[server.name as "agent" | "c"].push(await measure(server, workload, String(round), clock));
      }
      if (workload.name === "concurrent-64") concurrentPeakKiB = agent.memory().peak;
      const ratios = samples.agent.map((sample, i) => sample.wall / (samples.c[i] as Sample).wall);
      const result = {
        workload: workload.name,
        description: workload.description,
        jobs: workload.commands.length,
        runs,
        wallMedianAgent: median(samples.agent.map((s) => s.wall)),
        wallMedianC: median(samples.c.map((s) => s.wall)),
        wallRatioMedian: median(ratios),
        wallRatios: ratios,
        cpuPerJobAgentMs: median(samples.agent.map((s) => s.cpuPerJob)) * 1000,
        cpuPerJobCMs: median(samples.c.map((s) => s.cpuPerJob)) * 1000,
        aroundCompilerAgentMs: median(samples.agent.map((s) => s.aroundPerJob)) * 1000,
        aroundCompilerCMs: median(samples.c.map((s) => s.aroundPerJob)) * 1000,
      };
      results.push(result);
      console.error(
        `${workload.name}: ours ${result.wallMedianAgent.toFixed(2)}s, C ${result.wallMedianC.toFixed(2)}s, ratio ${result.wallRatioMedian.toFixed(3)}`,
      );
    }
    for (const workload of workloads.filter((w) => SANDBOX_WORKLOADS.includes(w.name) && (!ONLY || ONLY.includes(`${w.name}-sandbox`)))) {
      const samples: Record<"on" | "off", Sample[]> = { on: [], off: [] };
      for (const server of [agent, unconfined]) await measure(server, workload, "sandbox-warmup", clock);
      for (let round = 0; round < RUNS; round++) {
        samples.on.push(await measure(agent, workload, `sandbox-${round}`, clock));
        samples.off.push(await measure(unconfined, workload, `sandbox-${round}`, clock));
      }
      const ratios = samples.on.map((sample, i) => sample.wall / (samples.off[i] as Sample).wall);
      sandboxResults.push({
        workload: workload.name,
        wallOn: median(samples.on.map((s) => s.wall)),
        wallOff: median(samples.off.map((s) => s.wall)),
        wallRatioMedian: median(ratios),
        cpuPerJobOnMs: median(samples.on.map((s) => s.cpuPerJob)) * 1000,
        cpuPerJobOffMs: median(samples.off.map((s) => s.cpuPerJob)) * 1000,
        aroundOnMs: median(samples.on.map((s) => s.aroundPerJob)) * 1000,
        aroundOffMs: median(samples.off.map((s) => s.aroundPerJob)) * 1000,
      });
      console.error(`${workload.name} sandbox on/off: wall ratio ${median(ratios).toFixed(3)}`);
    }
    if (cacheWorkloads.length > 0) {
      // Started as root, the agent switches to an unprivileged user, which must be able to make its cache dir.
      const cacheRoot = mkdtempSync(join(tmpdir(), "bench-cache-"));
      chmodSync(cacheRoot, 0o1777);
      const cached = await startServer("agent", { ...options, args: ["--cache-dir", join(cacheRoot, "cache")] });
      try {
        cacheResults = await benchCache(WORK, { c, plain: agent, cached }, cacheWorkloads, RUNS, JOBS);
      } finally {
        await cached.stop().catch(() => undefined);
        rmSync(cacheRoot, { recursive: true, force: true });
      }
    }
  } finally {
    await agent.stop().catch(() => undefined);
    await c.stop().catch(() => undefined);
    await unconfined.stop().catch(() => undefined);
  }
  const spawnCost: SpawnCost | undefined = !ONLY || ONLY.includes("spawn") ? await measureSpawnCost(COMPILER, RUNS * 40) : undefined;

  const preprocessed = join(WORK, "large.i");
  const cpp = Bun.spawnSync([COMPILER, "-E", "-Ismall/include", sources.large, "-o", preprocessed], { cwd: WORK });
  if (cpp.exitCode !== 0) throw new Error(cpp.stderr.toString());
  const binary = join(WORK, "binary.bin");
  writeFileSync(binary, readFileSync(`/usr/bin/${COMPILER}`).subarray(0, 4_000_000));
  const lzo: Record<string, { ours: Throughput; c: Throughput }> = {};
  for (const [name, file] of [
    ["text", preprocessed],
    ["binary", binary],
  ] as const) {
    lzo[name] = compareThroughput(file, RUNS);
  }

  const summary = {
    date: new Date().toISOString(),
    machine: { cpus: navigator.hardwareConcurrency, jobs: JOBS },
    seconds: Math.round((performance.now() - began) / 1000),
    workloads: results,
    cache: cacheResults,
    agentRssKiB: { idle: idle.rss, idleAnon: idle.anon, peakDuringConcurrent: concurrentPeakKiB },
    sandbox: { workloads: sandboxResults, spawn: spawnCost },
    lzoMBps: lzo,
  };
  writeFileSync(join(ROOT, "bench/results.json"), `${JSON.stringify(summary, null, 2)}\n`);

  const bars: Bar[] = [
    ...results.map((r) => ({ label: `${r.workload} wall`, value: r.wallRatioMedian as number, target: 1, lowerIsBetter: true })),
    ...results.map((r) => ({
      label: `${r.workload} CPU/job`,
      value: (r.cpuPerJobAgentMs as number) / Math.max(0.001, r.cpuPerJobCMs as number),
      target: 1,
      lowerIsBetter: true,
    })),
    ...cacheResults.map((r) => ({ label: `${r.workload} warm/C`, value: r.warmOverC, target: 0.15, lowerIsBetter: true })),
    ...cacheResults.map((r) => ({ label: `${r.workload} warm/floor`, value: r.warmOverFloor, target: 1.5, lowerIsBetter: true })),
    ...Object.entries(lzo).flatMap(([name, t]) => [
      { label: `LZO ${name} compress`, value: t.ours.compress / t.c.compress, target: 0.5, lowerIsBetter: false },
      { label: `LZO ${name} decompress`, value: t.ours.decompress / t.c.decompress, target: 0.5, lowerIsBetter: false },
    ]),
  ];
  writeFileSync(join(ROOT, "bench/ratios.svg"), barChart("distcc-agent / C distccd (median ratios)", bars));

  const rows = [
    "| workload | jobs/run | runs | ours (s) | C (s) | wall ours/C | CPU/job ours (ms) | CPU/job C (ms) | around the compiler, ours / C (ms/job) |",
    "|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.workload} | ${r.jobs} | ${r.runs} | ${(r.wallMedianAgent as number).toFixed(2)} | ${(r.wallMedianC as number).toFixed(2)} | ${(r.wallRatioMedian as number).toFixed(3)} | ${(r.cpuPerJobAgentMs as number).toFixed(2)} | ${(r.cpuPerJobCMs as number).toFixed(2)} | ${(r.aroundCompilerAgentMs as number).toFixed(1)} / ${(r.aroundCompilerCMs as number).toFixed(1)} |`,
    ),
    "",
    ...(cacheResults.length > 0 ? [...cacheTable(cacheResults), ""] : []),
    `Agent RSS: ${(idle.rss / 1024).toFixed(1)} MiB idle (${(idle.anon / 1024).toFixed(1)} MiB of it private), ${(concurrentPeakKiB / 1024).toFixed(1)} MiB peak during the concurrent workload.`,
    "",
    "| workload, ours | confined (s) | --sandbox off (s) | wall confined/off | CPU/job confined / off (ms) | around the compiler confined / off (ms/job) |",
    "|---|---|---|---|---|---|",
    ...sandboxResults.map(
      (r) =>
        `| ${r.workload} | ${(r.wallOn as number).toFixed(2)} | ${(r.wallOff as number).toFixed(2)} | ${(r.wallRatioMedian as number).toFixed(3)} | ${(r.cpuPerJobOnMs as number).toFixed(2)} / ${(r.cpuPerJobOffMs as number).toFixed(2)} | ${(r.aroundOnMs as number).toFixed(1)} / ${(r.aroundOffMs as number).toFixed(1)} |`,
    ),
    "",
    ...(spawnCost
      ? [
          `Confined start, per job (/bin/true under the compiler's ruleset, against Bun.spawn): wall ${spawnCost.wallConfinedMs.toFixed(2)} vs ${spawnCost.wallDirectMs.toFixed(2)} ms (${spawnCost.wallAddedMs.toFixed(2)} added); the agent's CPU ${spawnCost.cpuConfinedMs.toFixed(2)} vs ${spawnCost.cpuDirectMs.toFixed(2)} ms.`,
          "",
        ]
      : []),
    "| LZO1X-1 (MB/s) | ours | C (liblzo2) | ours/C |",
    "|---|---|---|---|",
    ...Object.entries(lzo).flatMap(([name, t]) => [
      `| ${name} compress | ${t.ours.compress.toFixed(0)} | ${t.c.compress.toFixed(0)} | ${(t.ours.compress / t.c.compress).toFixed(2)} |`,
      `| ${name} decompress | ${t.ours.decompress.toFixed(0)} | ${t.c.decompress.toFixed(0)} | ${(t.ours.decompress / t.c.decompress).toFixed(2)} |`,
    ]),
  ];
  console.log(rows.join("\n"));
  console.log(
    `\n${RUNS} counted runs per server and workload (${LARGE_RUNS} single compiles of the large unit), alternating, after a warm-up; ${summary.seconds}s in all.`,
  );
}

await main();
