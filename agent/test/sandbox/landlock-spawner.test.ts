/**
 * The confined exec on its own (confined-exec.c through the LandlockSpawner): what a compiler
 * starts with (its own session, fds 0-2 only, default signals, its job's files), how its exit
 * and a failed start are reported, and that many exits at once are all seen.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningProcess } from "../../src/job/spawn.ts";
import { LandlockSpawner } from "../../src/sandbox/landlock-spawner.ts";
import { probeSandbox } from "../../src/sandbox/probe.ts";
import { until } from "../helpers/wait.ts";

const root = mkdtempSync(join(tmpdir(), "landlock-spawner-"));
const jobs = mkdtempSync(join(root, "jobs-"));
const { abi, exec, reason } = probeSandbox(undefined, root);
if (exec === undefined) throw new Error(`this kernel cannot confine: ${reason}`);
const SH = "/bin/sh";
const spawner = new LandlockSpawner(exec, { abi, env: { PATH: "/usr/bin:/bin" }, tmpDir: jobs, compilers: [SH] });
const outside = join(root, "outside.txt");
writeFileSync(outside, "a server file\n");

afterAll(() => {
  spawner.stop();
  rmSync(root, { recursive: true, force: true });
});

let jobCount = 0;
async function run(
  script: string,
  cmd: string[] = [SH, "-c", script],
): Promise<{ proc: RunningProcess; stdout: () => string; jobDir: string }> {
  const jobDir = mkdtempSync(join(jobs, `job${jobCount++}-`));
  const request = {
    cmd,
    cwd: jobDir,
    env: { PATH: "/usr/bin:/bin", TMPDIR: jobDir },
    stdoutFd: openSync(join(jobDir, "stdout"), "w"),
    stderrFd: openSync(join(jobDir, "stderr"), "w"),
    jobDir,
  };
  try {
    const proc = await spawner.spawn(request);
    return { proc, stdout: () => readFileSync(join(jobDir, "stdout"), "utf8"), jobDir };
  } finally {
    closeSync(request.stdoutFd);
    closeSync(request.stderrFd);
  }
}

describe("a confined start", () => {
  test("exit codes and signals come back as Bun reports its own children's", async () => {
    expect(await (await run("exit 3")).proc.exited).toEqual({ exitCode: 3, signal: null });
    expect(await (await run("kill -TERM $$")).proc.exited).toEqual({ exitCode: null, signal: 15 });
  });

  test("its own session, fds 0-2 only (stdin /dev/null), no signal ignored or blocked", async () => {
    const { proc } = await run("exec sleep 30");
    // Read from outside: a confined process cannot read /proc.
    await until(() => readlinkSync(`/proc/${proc.pid}/exe`).endsWith("/sleep"), "the exec of sleep");
    const stat = readFileSync(`/proc/${proc.pid}/stat`, "utf8");
    const [pgid, sid] = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .slice(2, 4);
    expect([pgid, sid]).toEqual([String(proc.pid), String(proc.pid)]);
    expect(readdirSync(`/proc/${proc.pid}/fd`).sort()).toEqual(["0", "1", "2"]);
    expect(readlinkSync(`/proc/${proc.pid}/fd/0`)).toBe("/dev/null");
    const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
    const mask = (name: string) => BigInt(`0x${status.match(new RegExp(`^${name}:\\t([0-9a-f]+)$`, "m"))?.[1]}`);
    // Signals 1-31 (bits 0-30). 32 and 33 are glibc's own (SIGCANCEL, SIGSETXID): its signal()
    // refuses them, and the glibc in the compiler takes them over at start whatever it inherits.
    expect(mask("SigIgn") & 0x7fffffffn).toBe(0n);
    expect(mask("SigBlk")).toBe(0n);
    proc.killGroup("SIGKILL");
    expect(await proc.exited).toEqual({ exitCode: null, signal: 9 });
  });

  test("reads nothing outside its toolchain and job, writes only its job dir", async () => {
    const { proc, stdout, jobDir } = await run(
      `cat ${outside} || echo denied; echo made > ${join(root, "made.txt")} || echo refused; echo mine > mine.txt && cat mine.txt`,
    );
    expect((await proc.exited).exitCode).toBe(0);
    expect(stdout()).toBe("denied\nrefused\nmine\n");
    expect(readFileSync(join(jobDir, "mine.txt"), "utf8")).toBe("mine\n");
  });

  test("a compiler that cannot be started is an error that says why", async () => {
    await expect(run("", ["/no/such/compiler"])).rejects.toThrow("No such file or directory");
    await expect(run("", [outside])).rejects.toThrow("Permission denied");
  });

  test("fifty exits at once are each seen", async () => {
    const started = await Promise.all(Array.from({ length: 50 }, (_, i) => run(`exit ${i % 7}`)));
    const exits = await Promise.all(started.map(({ proc }) => proc.exited));
    expect(exits.map((exit) => exit.exitCode)).toEqual(Array.from({ length: 50 }, (_, i) => i % 7));
  });
});
