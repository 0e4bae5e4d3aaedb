/**
 * The cache's cost in pump mode, without the rest of `make bench`: the 200 small units through
 * distcc-pump against an agent without a cache and one with a local cache, alternating: plain,
 * cold (every job a miss), warm (every job a hit). Prints wall seconds and agent CPU per job
 * (schedstat) for each. `bun bench/pump-cache-cost.ts [rounds]`; AGENT=<binary> picks the agent,
 * TEMP=<dir> puts both agents' TMPDIR and the cache there: on a tmpfs, what the cache itself
 * costs shows without the file system's price for creating inodes (on ext4 without a journal,
 * each new inode scans past those deleted in the last 30 s: half of a pump job's agent CPU on
 * the shared build machine, and most of its variation from run to run).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { clientEnv } from "./client-env.ts";
import { includeServer } from "./include-server.ts";
import { median } from "./median.ts";
import { type Server, startServer } from "./servers.ts";
import { generateWorkloads } from "./workloads.ts";

const ROOT = resolve(import.meta.dir, "..");
const WORK = join(ROOT, "bench/work/pump-cost");
const JOBS = 4;
const COMPILER = "powerpc-linux-gnu-gcc";
const ROUNDS = Number(process.argv[2] ?? 3);

async function build(server: Server, units: readonly string[], seed: string): Promise<{ wall: number; cpuMs: number }> {
  const hosts = `127.0.0.1:${server.port}/${JOBS},lzo,cpp`;
  const distccDir = mkdtempSync(join(WORK, "distcc-"));
  const out = mkdtempSync(join(WORK, "out-"));
  const pump = includeServer(hosts);
  const env = clientEnv(hosts, distccDir, pump);
  let next = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (next < units.length) {
      const i = next++;
      const args = [
        "distcc",
        COMPILER,
        "-O2",
        "-Ismall/include",
        `-frandom-seed=${seed}`,
        "-c",
        units[i] as string,
        "-o",
        join(out, `${i}.o`),
      ];
      const proc = Bun.spawn(args, { cwd: WORK, env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      if (code !== 0 || stderr.includes("failed")) failures.push(`${args.join(" ")} -> ${code}: ${stderr.slice(0, 300)}`);
    }
  };
  Bun.spawnSync(["sync"]);
  const cpu = server.cpuSeconds();
  const start = performance.now();
  try {
    await Promise.all(Array.from({ length: JOBS }, worker));
  } finally {
    await pump.stop();
  }
  const wall = (performance.now() - start) / 1000;
  const cpuMs = ((server.cpuSeconds() - cpu) / units.length) * 1000;
  rmSync(out, { recursive: true, force: true });
  rmSync(distccDir, { recursive: true, force: true });
  if (failures.length > 0) throw new Error(`${failures.length} failed:\n${failures.slice(0, 3).join("\n")}`);
  return { wall, cpuMs };
}

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
const { small } = generateWorkloads(WORK);
const agentBinary = process.env.AGENT ?? join(ROOT, "dist/distccd");
const options = { jobs: JOBS, compiler: COMPILER, work: WORK, agentBinary };
const temp = process.env.TEMP ?? tmpdir();
const cacheRoot = mkdtempSync(join(temp, "pump-cost-"));
// Started as root, the agent switches to an unprivileged user, which must be able to write here.
chmodSync(cacheRoot, 0o1777);
const env = { TMPDIR: cacheRoot };
const plain = await startServer("agent", { ...options, env });
const cached = await startServer("agent", { ...options, env, args: ["--cache-dir", join(cacheRoot, "cache")] });
const samples: Record<"plain" | "cold" | "warm", { wall: number; cpuMs: number }[]> = { plain: [], cold: [], warm: [] };
try {
  for (let round = -1; round < ROUNDS; round++) {
    const seed = `r${round}-${Date.now()}`;
    const p = await build(plain, small, seed);
    const c = await build(cached, small, seed);
    const w = await build(cached, small, seed);
    console.error(
      `round ${round}: plain ${p.wall.toFixed(2)}s ${p.cpuMs.toFixed(2)}ms/job  cold ${c.wall.toFixed(2)}s ${c.cpuMs.toFixed(2)}ms/job  warm ${w.wall.toFixed(2)}s ${w.cpuMs.toFixed(2)}ms/job`,
    );
    if (round < 0) continue;
    samples.plain.push(p);
    samples.cold.push(c);
    samples.warm.push(w);
  }
} finally {
  await plain.stop().catch(() => undefined);
  await cached.stop().catch(() => undefined);
  rmSync(cacheRoot, { recursive: true, force: true });
}
const m = (kind: keyof typeof samples, what: "wall" | "cpuMs") => median(samples[kind].map((s) => s[what]));
const ratio = median(samples.cold.map((s, i) => s.wall / (samples.plain[i] as { wall: number }).wall));
console.log(
  JSON.stringify({
    rounds: ROUNDS,
    wall: { plain: m("plain", "wall"), cold: m("cold", "wall"), warm: m("warm", "wall"), coldOverPlain: ratio },
    cpuPerJobMs: { plain: m("plain", "cpuMs"), cold: m("cold", "cpuMs"), warm: m("warm", "cpuMs") },
    missCostMs: m("cold", "cpuMs") - m("plain", "cpuMs"),
  }),
);
