/**
 * Faults of the server, not of the request: a temp disk that fills (the client is told, the job's
 * files go, /readyz fails while space is short), an agent killed mid-compile (its compilers and
 * their children die with it, and a restarted agent kills what a predecessor left), and a client
 * that trickles its request (dropped at --request-timeout).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AGENT_BINARY, type Agent, freePort, jobLeftovers, sharedTempDir, startAgent } from "../helpers/agent.ts";
import { distcc, run } from "../helpers/distcc.ts";
import { slowCompiler } from "../helpers/slow-compiler.ts";
import { compileRequest, exchange, parseReply, pumpRequest } from "../helpers/tokens.ts";
import { GCC } from "../helpers/toolchain.ts";
import { alive, until } from "../helpers/wait.ts";
import { workspace } from "../helpers/workspace.ts";

/** SIGXFSZ as a wait status: what a job lost to a full disk is answered with. */
const NO_SPACE_STATUS = 25;
const good = (compiler = GCC) => compileRequest(2, [compiler, "-c", "x.c", "-o", "x.o"], "int x = 1;\n");

/** A 4 MiB tmpfs for the agent's TMPDIR (tests run as root), unmounted at the end. */
function smallTmpfs(): string {
  const dir = mkdtempSync(join(tmpdir(), "tmpfs-"));
  const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=4m,mode=1777", "tmpfs", dir]);
  if (mounted.exitCode !== 0) throw new Error(`mount tmpfs: ${mounted.stderr.toString()}`);
  mounts.push(dir);
  return dir;
}
const mounts: string[] = [];
afterAll(() => {
  for (const dir of mounts) {
    Bun.spawnSync(["umount", "-l", dir]);
    rmdirSync(dir);
  }
});

/** Writes into `dir` until the file system refuses: a disk already full. */
function fill(dir: string): string {
  const ballast = join(dir, "ballast");
  const fd = openSync(ballast, "w");
  const block = new Uint8Array(64 << 10);
  try {
    for (let i = 0; i < 1024; i++) writeSync(fd, block);
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
  } finally {
    closeSync(fd);
  }
  return ballast;
}

async function faultAgent(tmp: string, options: { env?: Readonly<Record<string, string>>; args?: string[]; extraPath?: string } = {}) {
  const statsPort = freePort();
  const agent = await startAgent({
    ...options,
    env: { TMPDIR: tmp, ...options.env },
    args: ["--stats", "--stats-port", String(statsPort), "--min-free-space", "1M", ...(options.args ?? [])],
  });
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${statsPort}${path}`);
    return { status: response.status, body: await response.text() };
  };
  const noSpaceCount = async () =>
    Number((await get("/metrics")).body.match(/^distccd_server_faults_total\{fault="E_NO_SPACE"\} (\d+)/m)?.[1] ?? 0);
  return Object.assign(agent, { get, noSpaceCount });
}

/** After a fault: counted as the server's (not a bad request), ready again, serving, nothing left on the tmpfs. */
async function expectRecovered(agent: Agent & Awaited<ReturnType<typeof faultAgent>>, tmp: string, faults: number): Promise<void> {
  expect(await agent.noSpaceCount()).toBe(faults);
  const counters = (await agent.get("/")).body;
  expect(counters).toContain("dcc_rej_bad_req 0");
  expect(counters).toContain(`dcc_other ${faults}`);
  expect(await agent.get("/readyz")).toEqual({ status: 200, body: "ready\n" });
  expect(parseReply(await exchange(agent.port, good())).status).toBe(0);
  await until(() => jobLeftovers(tmp).length === 0, "the tmpfs to be empty");
}

describe("a full temp disk is the server's fault", () => {
  test("a body larger than TMPDIR: the client is told the server's temp space is full", async () => {
    const tmp = smallTmpfs();
    await using agent = await faultAgent(tmp);
    // Protocol 1 bodies go to disk as they arrive; 6 MiB do not fit in 4.
    const big = `int a[] = {${"1,".repeat(3 << 20)}};\n`;
    const reply = parseReply(await exchange(agent.port, compileRequest(1, [GCC, "-c", "big.c", "-o", "big.o"], big)));
    expect(reply.status).toBe(NO_SPACE_STATUS);
    expect(reply.stderr).toMatch(/^distccd\[\d+\] \(dcc_no_space\) ERROR: the server's temp space is full \(ENOSPC storing the request/);
    expect(reply.stderr).toContain(`TMPDIR ${tmp}`);
    await agent.waitForLog(/job from 127\.0\.0\.1:\d+ lost: the server's temp space is full .* code=E_NO_SPACE/);
    expect(agent.log()).not.toContain("bad request");
    await expectRecovered(agent, tmp, 1);
  });

  test("an object larger than TMPDIR: Debian's client shows the assembler's words and the server's, and blames the server", async () => {
    const tmp = smallTmpfs();
    await using agent = await faultAgent(tmp);
    const dir = workspace();
    writeFileSync(join(dir, "big.c"), "char big[6 << 20] = {1};\n");
    const client = await distcc([GCC, "-c", "big.c", "-o", "big.o"], { hosts: `127.0.0.1:${agent.port}/4,lzo`, cwd: dir });
    // 128 + SIGXFSZ: a failure to distribute, which the client would compile locally (fallback is off here).
    expect(client.exitCode).toBe(128 + NO_SPACE_STATUS);
    expect(client.stderr).toContain("No space left on device");
    expect(client.stderr).toContain("the server's temp space is full (the compiler ran out of room");
    expect(client.log).toContain(": File size limit exceeded");
    expect(client.stderr).not.toContain("server provided no answer");
    await expectRecovered(agent, tmp, 1);
  });

  test("a disk that fills during the compile: the compiler's diagnostics still reach the client", async () => {
    const tmp = smallTmpfs();
    const slow = slowCompiler();
    const options = slow.agentOptions(1);
    await using agent = await faultAgent(tmp, { env: options.env, args: options.args as string[], extraPath: options.extraPath });
    const reply = exchange(agent.port, compileRequest(2, [slow.name, "-c", "bad.c", "-o", "bad.o"], "int x = ;\n"));
    await until(() => alive(slow.sleepPid()), "the compiler to start");
    const ballast = fill(tmp);
    // cc1 reports the error, then that it could not write its output: the job is the disk's fault,
    // and every word the compiler said comes first.
    const result = parseReply(await reply);
    expect(result.status).toBe(NO_SPACE_STATUS);
    expect(result.stderr).toMatch(
      /input\.i:1:9: error: expected expression before .;. token\n[\s\S]*No space left on device\n[\s\S]*\(dcc_no_space\) ERROR: the server's temp space is full \(the compiler ran out of room/,
    );
    rmSync(ballast);
    await expectRecovered(agent, tmp, 1);
  });

  test("a disk already full: /readyz fails until space returns, jobs are answered, then served", async () => {
    const tmp = smallTmpfs();
    await using agent = await faultAgent(tmp);
    const ballast = fill(tmp);
    const readyz = await agent.get("/readyz");
    expect(readyz.status).toBe(503);
    const metrics = (await agent.get("/metrics")).body;
    expect(Number(metrics.match(/^distccd_temp_free_bytes (\S+)$/m)?.[1])).toBeLessThan(1 << 20);
    expect(metrics).toMatch(/^distccd_temp_min_free_bytes 1048576$/m);
    expect(readyz.body).toBe("low on temp space\n");
    await agent.waitForLog(new RegExp(`low on temp space: 0\\.\\d MiB free in ${tmp}, --min-free-space is 1\\.0 MiB; /readyz fails`));
    // Protocol 2, a small body: it waits in memory, and writing the source out fails.
    const inMemory = parseReply(await exchange(agent.port, good()));
    expect(inMemory.status).toBe(NO_SPACE_STATUS);
    expect(inMemory.stderr).toContain("the server's temp space is full (ENOSPC writing the job's files");
    // Protocol 1: the body goes straight to disk.
    const onDisk = parseReply(await exchange(agent.port, compileRequest(1, [GCC, "-c", "x.c", "-o", "x.o"], "int x;\n")));
    expect(onDisk.status).toBe(NO_SPACE_STATUS);
    expect(onDisk.stderr).toContain("the server's temp space is full (ENOSPC storing the request");
    // Pump mode: the client's files are rebuilt on disk.
    const pump = parseReply(
      await exchange(agent.port, pumpRequest("/src", [GCC, "-c", "x.c", "-o", "x.o"], [{ name: "/src/x.c", file: "int x;\n".repeat(99) }])),
    );
    expect(pump.status).toBe(NO_SPACE_STATUS);
    expect(pump.stderr).toContain("the server's temp space is full (ENOSPC storing the request");
    rmSync(ballast);
    await expectRecovered(agent, tmp, 3);
    await agent.waitForLog(/temp space is back: [\d.]+ MiB free in .*; \/readyz passes again/);
  });

  test("a --min-free-space that is not a size stops the start in one line", async () => {
    const dir = workspace();
    const bad = await run([AGENT_BINARY, "--min-free-space", "lots"], dir);
    expect(bad.exitCode).toBe(101);
    expect(bad.stderr).toBe("distccd: ERROR: --min-free-space lots: must be a size such as 512M, 2G or 1048576\n");
  });
});

/** Members of these process groups still alive, from /proc. */
function groupMembers(groups: ReadonlySet<number>): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // Zombies wait for init to reap them: they run nothing.
      if (fields[0] !== "Z" && groups.has(Number(fields[2]))) members.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return members;
}

function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

/** The agent's watchdog: its child started with the watchdog's environment. */
function watchdogOf(agentPid: number): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === agentPid && readFileSync(`/proc/${entry}/environ`, "utf8").includes("DISTCCD_COMPILER_WATCHDOG=1"))
        return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

describe("a killed agent leaves no compiler running", () => {
  /** Two slow compiles under way; their process groups (each a shell and its sleep child). */
  async function twoSlowJobs(agent: Agent, slow: ReturnType<typeof slowCompiler>): Promise<Set<number>> {
    for (let i = 0; i < 2; i++) void exchange(agent.port, good(slow.name)).catch(() => {});
    await until(() => slow.sleepPids().filter(alive).length === 2, "two compilers to start");
    const groups = new Set(slow.sleepPids().map(processGroup));
    expect(groups.size).toBe(2);
    expect(groupMembers(groups).length).toBe(4);
    return groups;
  }

  test("kill -9 of the agent during two compiles: every compiler and its children are gone within a second", async () => {
    const slow = slowCompiler();
    await using agent = await startAgent(slow.agentOptions(60));
    const groups = await twoSlowJobs(agent, slow);
    const watchdog = watchdogOf(agent.pid);
    expect(watchdog).toBeDefined();
    process.kill(agent.pid, "SIGKILL");
    await until(() => groupMembers(groups).length === 0, "the compilers to die with the agent", 1000);
    // The watchdog has done its job and is gone too.
    await until(() => groupMembers(new Set([watchdog as number])).length === 0, "the watchdog to exit", 1000);
  });

  test("a watchdog that dies is replaced, and the new one knows the running compilers", async () => {
    const slow = slowCompiler();
    await using agent = await startAgent(slow.agentOptions(60));
    const groups = await twoSlowJobs(agent, slow);
    const first = watchdogOf(agent.pid) as number;
    process.kill(first, "SIGKILL");
    await agent.waitForLog(/the compiler watchdog exited \(status 137\); starting another/);
    await until(() => (watchdogOf(agent.pid) ?? first) !== first, "a new watchdog");
    process.kill(agent.pid, "SIGKILL");
    await until(() => groupMembers(groups).length === 0, "the compilers to die with the agent", 1000);
  });

  test("a restarted agent kills the compiler groups its dead predecessor recorded", async () => {
    const slow = slowCompiler();
    const tmp = sharedTempDir("predecessor-");
    const options = slow.agentOptions(60);
    const sharingTmp = { ...options, env: { ...options.env, TMPDIR: tmp } };
    await using first = await startAgent(sharingTmp);
    const groups = await twoSlowJobs(first, slow);
    // The watchdog dies first, so nothing kills the compilers' children when the agent goes (a
    // confined compiler itself dies with it by PR_SET_PDEATHSIG): the sleeps run on.
    process.kill(watchdogOf(first.pid) as number, "SIGKILL");
    process.kill(first.pid, "SIGKILL");
    await first.stop();
    await Bun.sleep(200);
    expect(slow.sleepPids().length).toBe(2);
    await using second = await startAgent(sharingTmp);
    const killed = (await second.waitForLog(/killed compiler process group\(s\) left running by an agent that is gone: (.*)/))[1] ?? "";
    expect(new Set(killed.split(" ").map(Number))).toEqual(groups);
    await until(() => groupMembers(groups).length === 0, "the predecessor's compilers to die", 1000);
    expect(jobLeftovers(tmp)).toEqual([]);
    rmSync(tmp, { recursive: true, force: true });
  });
});

test("a client trickling one byte every two seconds is dropped at --request-timeout, others are served meanwhile", async () => {
  const statsPort = freePort();
  await using agent = await startAgent({ args: ["--request-timeout", "5", "--stats", "--stats-port", String(statsPort)] });
  const request = good();
  const started = Date.now();
  const { promise: closed, resolve: close } = Promise.withResolvers<number>();
  const trickler = await Bun.connect({
    hostname: "127.0.0.1",
    port: agent.port,
    socket: { data() {}, close: () => close(Date.now() - started) },
  });
  let sent = 0;
  const drip = setInterval(() => {
    if (sent < request.length) trickler.write(request.subarray(sent, ++sent));
  }, 2000);
  try {
    trickler.write(request.subarray(0, ++sent));
    const served = await Promise.all([1, 2, 3].map(() => exchange(agent.port, good())));
    expect(served.map((reply) => parseReply(reply).status)).toEqual([0, 0, 0]);
    const after = await closed;
    expect(after).toBeGreaterThanOrEqual(4500);
    expect(sent).toBeLessThan(request.length);
    await agent.waitForLog(/client 127\.0\.0\.1:\d+ did not send its whole request within 5s: dropped \(--request-timeout\)/);
    const metrics = await (await fetch(`http://127.0.0.1:${statsPort}/metrics`)).text();
    expect(metrics).toContain('distccd_refusals_total{reason="request-timeout"} 1');
  } finally {
    clearInterval(drip);
    trickler.terminate();
  }
});
