/**
 * What confinement costs a job's start, measured in-process on the agent's own code: the
 * LandlockSpawner starting /bin/true under the PowerPC gcc's full ruleset and the job dir's,
 * against Bun.spawn of /bin/true (the unconfined path), interleaved. Wall is from the spawn call
 * to the exit; CPU is the agent's side (the ruleset, the fds, vfork and exec; the child's few
 * system calls before its exec are the child's).
 */
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnProcess } from "../agent/src/job/spawn.ts";
import { LandlockSpawner } from "../agent/src/sandbox/landlock-spawner.ts";
import { probeSandbox } from "../agent/src/sandbox/probe.ts";
import { median } from "./median.ts";

export interface SpawnCost {
  /** Milliseconds from the spawn call to /bin/true's exit, confined minus unconfined. */
  readonly wallAddedMs: number;
  readonly wallConfinedMs: number;
  readonly wallDirectMs: number;
  /** The agent's CPU per start (the ruleset, the fds, vfork and exec): confined, and through Bun.spawn. */
  readonly cpuConfinedMs: number;
  readonly cpuDirectMs: number;
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

export async function measureSpawnCost(compiler: string, runs: number): Promise<SpawnCost | undefined> {
  const dir = mkdtempSync(join(tmpdir(), "spawn-cost-"));
  const { abi, exec } = probeSandbox(undefined, dir);
  if (exec === undefined) return undefined;
  const executable = Bun.which(compiler) ?? compiler;
  const spawner = new LandlockSpawner(exec, { abi, env: process.env, tmpDir: tmpdir(), compilers: [executable] });
  const [stdoutFd, stderrFd] = [openSync(join(dir, "o"), "w"), openSync(join(dir, "e"), "w")];
  const request = (cmd: string[]) => ({ cmd, cwd: dir, env: { PATH: "/usr/bin:/bin" }, stdoutFd, stderrFd, jobDir: dir });
  // The toolchain is asked for once, at start-up: wait for it, as a job after start-up would not.
  await (await spawner.spawn(request([executable, "--version"]))).exited;
  const confined = { wall: [] as number[], cpu: [] as number[] };
  const direct = { wall: [] as number[], cpu: [] as number[] };
  for (let i = 0; i < runs * 2; i++) {
    const into = i % 2 === 0 ? confined : direct;
    const cpu = cpuMs();
    const start = performance.now();
    const proc = await (into === confined ? spawner.spawn(request(["/bin/true"])) : spawnProcess(request(["/bin/true"])));
    const spent = cpuMs() - cpu;
    await proc.exited;
    into.wall.push(performance.now() - start);
    into.cpu.push(spent);
  }
  spawner.stop();
  closeSync(stdoutFd);
  closeSync(stderrFd);
  rmSync(dir, { recursive: true, force: true });
  return {
    wallAddedMs: median(confined.wall) - median(direct.wall),
    wallConfinedMs: median(confined.wall),
    wallDirectMs: median(direct.wall),
    cpuConfinedMs: median(confined.cpu),
    cpuDirectMs: median(direct.cpu),
  };
}

if (import.meta.main) console.log(await measureSpawnCost("powerpc-linux-gnu-gcc", 100));
