/**
 * The compile cache's part of `make bench`: warm rebuilds. Each round builds a workload through
 * the C distccd, through our agent without a cache, then twice through an agent with a local
 * cache (cold: every job a miss; warm: every job a hit), and times the client preprocessing the
 * same units with -E alone: the floor no server can go below on protocols 1 and 2. A round's
 * jobs carry -frandom-seed=<round>, which reaches the server and leaves C objects alone, so each
 * round's cold build really misses.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clientEnv } from "./client-env.ts";
import { includeServer } from "./include-server.ts";
import { median } from "./median.ts";
import type { Server } from "./servers.ts";

export interface CacheWorkload {
  readonly name: string;
  readonly description: string;
  /** One compile per job (compiler first, no -o), run from the work dir. */
  readonly commands: readonly string[][];
  readonly hostOptions: string;
  readonly pump: boolean;
}

export interface CacheServers {
  readonly c: Server;
  readonly plain: Server;
  readonly cached: Server;
}

export interface CacheResult {
  readonly workload: string;
  readonly description: string;
  readonly jobs: number;
  readonly runs: number;
  readonly wallC: number;
  readonly wallPlain: number;
  readonly wallCold: number;
  readonly wallWarm: number;
  readonly wallFloor: number;
  /** Warm rebuild through the cache against the same build through the C distccd. */
  readonly warmOverC: number;
  /** Warm rebuild against the -E floor. */
  readonly warmOverFloor: number;
  /** A cold build with the cache against one without. */
  readonly coldOverPlain: number;
  /** Agent CPU per job, ms: without a cache, cold, warm (a hit). */
  readonly cpuPlainMs: number;
  readonly cpuColdMs: number;
  readonly cpuWarmMs: number;
}

/** Units whose compile dominates their preprocessing, as real code's does: loops, branches, inlining. */
export function generateCompileHeavy(dir: string, units = 16, functions = 30): string[] {
  mkdirSync(join(dir, "heavy"), { recursive: true });
  const names: string[] = [];
  for (let u = 0; u < units; u++) {
    const body: string[] = ["#include <stddef.h>", ""];
    for (let f = 0; f < functions; f++) {
      body.push(
        `static inline double mix_${f}(double x, int k) { return (k & 1) ? x * ${f + 1}.25 - k : x / (1.0 + ${f} * k); }`,
        `double kernel_${u}_${f}(double *a, const double *b, size_t n, int mode) {`,
        "  double acc = 0;",
        "  for (size_t i = 0; i < n; i++) {",
        `    for (size_t j = i; j < n && j < i + ${(f % 5) + 3}; j++) acc += mix_${f}(a[j] * b[i], (int)(i ^ j));`,
        "    switch ((mode + (int)i) & 7) {",
        ...Array.from({ length: 8 }, (_, c) => `    case ${c}: a[i] = acc * ${c + (f % 3)}.5 + b[(i + ${c}) % n]; break;`),
        "    }",
        "    if (acc > 1e9) acc = acc / 7 + mode;",
        "  }",
        "  return acc;",
        "}",
      );
    }
    const name = `heavy/unit${String(u).padStart(2, "0")}.c`;
    writeFileSync(join(dir, name), `${body.join("\n")}\n`);
    names.push(name);
  }
  return names;
}

async function pool(commands: readonly string[][], parallel: number, cwd: string, env: Record<string, string>): Promise<void> {
  let next = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (next < commands.length) {
      const args = commands[next++] as string[];
      const proc = Bun.spawn(args, { cwd, env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      if (code !== 0) failures.push(`${args.join(" ")} -> ${code}: ${stderr.slice(0, 400)}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  if (failures.length > 0) throw new Error(`${failures.length} job(s) failed:\n${failures.slice(0, 3).join("\n")}`);
}

/** One build through `server`, or with `server` undefined the -E floor; wall seconds and server CPU per job. */
async function build(
  work: string,
  workload: CacheWorkload,
  seed: string,
  parallel: number,
  server: Server | undefined,
): Promise<{ wall: number; cpuPerJob: number }> {
  const out = mkdtempSync(join(work, "cache-out-"));
  const hosts = server ? `127.0.0.1:${server.port}/${parallel}${workload.hostOptions}` : "";
  const distccDir = mkdtempSync(join(work, "cache-distcc-"));
  const pump = server && workload.pump ? includeServer(hosts) : undefined;
  const env = clientEnv(hosts, distccDir, pump);
  const commands = workload.commands.map((args, i) =>
    server ? ["distcc", ...args, `-frandom-seed=${seed}`, "-o", join(out, `${i}.o`)] : [...args, "-E", "-o", join(out, `${i}.i`)],
  );
  Bun.spawnSync(["sync"]);
  const cpu = server?.cpuSeconds() ?? 0;
  const start = performance.now();
  try {
    await pool(commands, parallel, work, env);
  } finally {
    await pump?.stop();
  }
  const wall = (performance.now() - start) / 1000;
  const cpuPerJob = server ? (server.cpuSeconds() - cpu) / commands.length : 0;
  rmSync(out, { recursive: true, force: true });
  rmSync(distccDir, { recursive: true, force: true });
  return { wall, cpuPerJob };
}

export async function benchCache(
  work: string,
  servers: CacheServers,
  workloads: readonly CacheWorkload[],
  runs: number,
  parallel: number,
): Promise<CacheResult[]> {
  const results: CacheResult[] = [];
  for (const workload of workloads) {
    const samples: Record<"c" | "plain" | "cold" | "warm" | "floor", { wall: number; cpuPerJob: number }[]> = {
      c: [],
      plain: [],
      cold: [],
      warm: [],
      floor: [],
    };
    for (let round = -1; round < runs; round++) {
      const seed = `${workload.name}-${round}-${Date.now()}`;
      const c = await build(work, workload, seed, parallel, servers.c);
      const plain = await build(work, workload, seed, parallel, servers.plain);
      const cold = await build(work, workload, seed, parallel, servers.cached);
      const warm = await build(work, workload, seed, parallel, servers.cached);
      const floor = await build(work, workload, seed, parallel, undefined);
      // Round -1 warms everything up and is not counted.
      if (round < 0) continue;
      samples.c.push(c);
      samples.plain.push(plain);
      samples.cold.push(cold);
      samples.warm.push(warm);
      samples.floor.push(floor);
    }
    const wall = (kind: keyof typeof samples) => median(samples[kind].map((s) => s.wall));
    const cpuMs = (kind: keyof typeof samples) => median(samples[kind].map((s) => s.cpuPerJob)) * 1000;
    const ratio = (a: keyof typeof samples, b: keyof typeof samples) =>
      median(samples[a].map((s, i) => s.wall / (samples[b][i] as { wall: number }).wall));
    const result: CacheResult = {
      workload: workload.name,
      description: workload.description,
      jobs: workload.commands.length,
      runs,
      wallC: wall("c"),
      wallPlain: wall("plain"),
      wallCold: wall("cold"),
      wallWarm: wall("warm"),
      wallFloor: wall("floor"),
      warmOverC: ratio("warm", "c"),
      warmOverFloor: ratio("warm", "floor"),
      coldOverPlain: ratio("cold", "plain"),
      cpuPlainMs: cpuMs("plain"),
      cpuColdMs: cpuMs("cold"),
      cpuWarmMs: cpuMs("warm"),
    };
    results.push(result);
    console.error(
      `${workload.name}: warm ${result.wallWarm.toFixed(2)}s, C ${result.wallC.toFixed(2)}s (warm/C ${result.warmOverC.toFixed(3)}), floor ${result.wallFloor.toFixed(2)}s, cold/plain ${result.coldOverPlain.toFixed(3)}`,
    );
  }
  return results;
}

export function cacheTable(results: readonly CacheResult[]): string[] {
  return [
    "| warm rebuild | jobs | runs | C (s) | ours, no cache (s) | cold (s) | warm (s) | -E floor (s) | warm/C | warm/floor | cold/no cache | CPU/job no cache / cold / hit (ms) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.workload} | ${r.jobs} | ${r.runs} | ${r.wallC.toFixed(2)} | ${r.wallPlain.toFixed(2)} | ${r.wallCold.toFixed(2)} | ${r.wallWarm.toFixed(2)} | ${r.wallFloor.toFixed(2)} | ${r.warmOverC.toFixed(3)} | ${r.warmOverFloor.toFixed(2)} | ${r.coldOverPlain.toFixed(3)} | ${r.cpuPlainMs.toFixed(2)} / ${r.cpuColdMs.toFixed(2)} / ${r.cpuWarmMs.toFixed(2)} |`,
    ),
  ];
}
