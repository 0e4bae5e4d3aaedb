/**
 * The compile cache end to end: the real distcc client, the real cross compilers and a real
 * redis-server on loopback against the built agent. A hit must give the very bytes a fresh
 * compile gives; a miss must be exactly a fresh compile.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Agent, type AgentOptions, freePort, sharedTempDir, startAgent } from "../helpers/agent.ts";
import { distcc, run } from "../helpers/distcc.ts";
import { startIncludeServer } from "../helpers/pump.ts";
import { type RedisServer, startRedis } from "../helpers/redis.ts";
import { GCC, GXX, toolchain } from "../helpers/toolchain.ts";
import { until } from "../helpers/wait.ts";
import { workspace } from "../helpers/workspace.ts";

type CachedAgent = Agent & { readonly statsPort: number; readonly cacheDir: string };

async function cachedAgent(options: { cacheDir?: string; redis?: string; args?: string[] } & AgentOptions = {}): Promise<CachedAgent> {
  const cacheDir = options.cacheDir ?? join(sharedTempDir("cache-"), "dir");
  const statsPort = freePort();
  const agent = await startAgent({
    ...options,
    args: ["--cache-dir", cacheDir, "--stats", "--stats-port", String(statsPort), ...(options.args ?? [])],
    env: { ...(options.redis !== undefined && { DISTCCD_CACHE_REDIS: options.redis }), ...options.env },
  });
  return Object.assign(agent, { statsPort, cacheDir });
}

/** Compiles through the agent; returns the job's cache outcome from its log line. */
async function compile(agent: Agent, dir: string, args: string[], protocol: 1 | 2 = 1, compiler = GCC) {
  const since = agent.log().length;
  const hosts = `127.0.0.1:${agent.port}${protocol === 2 ? ",lzo" : ""}`;
  const result = await distcc([compiler, ...args], { hosts, cwd: dir });
  const match = await agent.waitForLog(/dcc_job_summary.* cache=([a-z-]+)/, { since });
  return { ...result, cache: match[1] };
}

/** The same compile through an agent without a cache (with -g, distcc's objects differ from local ones). */
async function freshObject(dir: string, args: string[], output: string, compiler = GCC, protocol: 1 | 2 = 1): Promise<NonSharedBuffer> {
  const hosts = `127.0.0.1:${plain.port}${protocol === 2 ? ",lzo" : ""}`;
  const fresh = await distcc([compiler, ...args.map((arg) => (arg === output ? `${output}.fresh` : arg))], { hosts, cwd: dir });
  expect(fresh.exitCode).toBe(0);
  return readFileSync(join(dir, `${output}.fresh`));
}

/** The same command run by the compiler itself. */
async function localObject(dir: string, args: string[], output: string, compiler = GCC): Promise<NonSharedBuffer> {
  const local = await run([compiler, ...args.map((arg) => (arg === output ? `${output}.local` : arg))], dir);
  expect(local.exitCode).toBe(0);
  return readFileSync(join(dir, `${output}.local`));
}

async function metrics(agent: CachedAgent): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${agent.statsPort}/metrics`)).text();
}

function metric(text: string, line: string): number {
  const match = text.split("\n").find((entry) => entry.startsWith(`${line} `));
  return match === undefined ? 0 : Number(match.slice(line.length + 1));
}

let redis: RedisServer;
let agent: CachedAgent;
let plain: Agent;
beforeAll(async () => {
  redis = await startRedis({ password: "s3cret-pass" });
  agent = await cachedAgent({ redis: redis.url });
  plain = await startAgent();
});
afterAll(async () => {
  await agent[Symbol.asyncDispose]();
  await plain[Symbol.asyncDispose]();
  await redis[Symbol.asyncDispose]();
});

describe.each([1, 2] as const)("protocol %d", (protocol) => {
  test("the same compile twice: a miss, then a disk hit with the bytes of a fresh compile", async () => {
    const dir = workspace();
    const args = ["-O2", "-g", "-Iinclude", `-DPROTOCOL=${protocol}`, "-c", "src/geometry.c", "-o", "geometry.o"];
    const first = await compile(agent, dir, args, protocol);
    expect(first).toMatchObject({ exitCode: 0, cache: "miss" });
    const fresh = await freshObject(dir, args, "geometry.o", GCC, protocol);
    expect(readFileSync(join(dir, "geometry.o"))).toEqual(fresh);
    const second = await compile(agent, dir, args, protocol);
    expect(second).toMatchObject({ exitCode: 0, cache: "hit-disk" });
    expect(readFileSync(join(dir, "geometry.o"))).toEqual(fresh);
  });
});

test("warnings replay byte for byte on a hit", async () => {
  const dir = workspace();
  writeFileSync(join(dir, "warn.c"), "int f(void) { int unused; return 0; }\n#warning from the source\n");
  const args = ["-Wall", "-c", "warn.c", "-o", "warn.o"];
  const first = await compile(agent, dir, args);
  const second = await compile(agent, dir, args);
  expect([first.cache, second.cache]).toEqual(["miss", "hit-disk"]);
  expect(first.stderr).toContain("warning: unused variable");
  expect(second.stderr).toBe(first.stderr);
  expect(second.exitCode).toBe(0);
});

test("a failed compile is not cached, and its error is never replayed as success", async () => {
  const dir = workspace();
  writeFileSync(join(dir, "bad.c"), "int x = ;\n");
  const args = ["-c", "bad.c", "-o", "bad.o"];
  for (let i = 0; i < 2; i++) {
    const result = await compile(agent, dir, args);
    expect(result).toMatchObject({ exitCode: 1, cache: "miss" });
    expect(result.stderr).toContain("error: expected expression");
    expect(existsSync(join(dir, "bad.o"))).toBe(false);
  }
});

describe("what changes the output misses, and the miss equals a fresh compile", () => {
  const base = ["-O2", "-DVALUE=1", "-c", "value.c", "-o", "value.o"];
  test.each([
    ["another -O", ["-O1", "-DVALUE=1", "-c", "value.c", "-o", "value.o"], GCC],
    ["another -D", ["-O2", "-DVALUE=2", "-c", "value.c", "-o", "value.o"], GCC],
    ["C++ instead of C", base, GXX],
  ])("%s", async (_name, args, compiler) => {
    const dir = workspace();
    writeFileSync(join(dir, "value.c"), "int value(int x) { return x * VALUE + 3; }\n");
    expect((await compile(agent, dir, base)).exitCode).toBe(0);
    expect((await compile(agent, dir, base)).cache).toBe("hit-disk");
    const other = await compile(agent, dir, args, 1, compiler);
    expect(other).toMatchObject({ exitCode: 0, cache: "miss" });
    expect(readFileSync(join(dir, "value.o"))).toEqual(await localObject(dir, args, "value.o", compiler));
  });

  test("another working directory with -g", async () => {
    const args = ["-g", "-O2", "-Iinclude", "-c", "src/geometry.c", "-o", "geometry.o"];
    const one = workspace();
    const two = workspace();
    expect((await compile(agent, one, args)).cache).toBe("miss");
    expect((await compile(agent, one, args)).cache).toBe("hit-disk");
    const elsewhere = await compile(agent, two, args);
    expect(elsewhere).toMatchObject({ exitCode: 0, cache: "miss" });
    expect(readFileSync(join(two, "geometry.o"))).toEqual(await freshObject(two, args, "geometry.o"));
    expect(readFileSync(join(two, "geometry.o"))).not.toEqual(readFileSync(join(one, "geometry.o")));
  });
});

describe("another compiler under the agent", () => {
  /** A cross gcc wrapper the test can rewrite, first on the agent's PATH, and the native gcc whitelisted. */
  function compilers() {
    const root = sharedTempDir("cc-");
    const bin = join(root, "bin");
    mkdirSync(bin, { mode: 0o755 });
    const wrapper = join(bin, GCC);
    const write = (extra: string) => {
      writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/powerpc-linux-gnu-gcc ${extra} "$@"\n`);
      chmodSync(wrapper, 0o755);
    };
    write("");
    const whitelist = join(root, "whitelist");
    writeFileSync(whitelist, `${GCC}\n${GXX}\ngcc\nx86_64-linux-gnu-gcc\n`, { mode: 0o644 });
    return { bin, wrapper, whitelist, write };
  }

  test("a compiler whose binary changed under the same name misses", async () => {
    const cc = compilers();
    await using local = await cachedAgent({ extraPath: cc.bin, args: ["--whitelist", cc.whitelist] });
    const dir = workspace();
    const args = ["-Iinclude", "-c", "src/geometry.c", "-o", "geometry.o"];
    expect((await compile(local, dir, args)).cache).toBe("miss");
    expect((await compile(local, dir, args)).cache).toBe("hit-disk");
    cc.write("-O2");
    const changed = await compile(local, dir, args);
    expect(changed).toMatchObject({ exitCode: 0, cache: "miss" });
    const fresh = await run([cc.wrapper, ...args.slice(0, -1), "geometry.o.local"], dir);
    expect(fresh.exitCode).toBe(0);
    expect(readFileSync(join(dir, "geometry.o"))).toEqual(readFileSync(join(dir, "geometry.o.local")));
  });

  test("another target triple misses", async () => {
    const cc = compilers();
    await using local = await cachedAgent({ args: ["--whitelist", cc.whitelist] });
    const dir = workspace();
    const args = ["-O2", "-Iinclude", "-c", "src/geometry.c", "-o", "geometry.o"];
    expect((await compile(local, dir, args)).cache).toBe("miss");
    const native = await compile(local, dir, args, 1, "gcc");
    expect(native).toMatchObject({ exitCode: 0, cache: "miss" });
    expect(readFileSync(join(dir, "geometry.o"))).toEqual(await localObject(dir, args, "geometry.o", "gcc"));
  });
});

test("pump mode: a hit the second time, a miss when a header changed", async () => {
  const hosts = `127.0.0.1:${agent.port},cpp,lzo`;
  const dir = workspace();
  const args = [GCC, "-O2", "-Iinclude", "-c", "src/main.c", "-o", "main.o"];
  // One include server per build, as `pump make` runs it: it keeps the files it has sent.
  const build = async (times: number) => {
    await using includeServer = await startIncludeServer(hosts);
    const outcomes: string[] = [];
    for (let i = 0; i < times; i++) {
      const since = agent.log().length;
      const result = await distcc(args, { hosts, cwd: dir, env: includeServer.env });
      expect(result.exitCode).toBe(0);
      outcomes.push((await agent.waitForLog(/dcc_job_summary.*protocol=3.* cache=([a-z-]+)/, { since }))[1] as string);
    }
    return outcomes;
  };
  expect(await build(2)).toEqual(["miss", "hit-disk"]);
  expect(readFileSync(join(dir, "main.o"))).toEqual(await localObject(dir, args.slice(1), "main.o"));
  const header = join(dir, "include/geometry.h");
  writeFileSync(header, readFileSync(header, "utf8").replace("long area(", "#define area(a, b) (2 * area_of(a, b))\nlong area_of("));
  expect(await build(1)).toEqual(["miss"]);
  expect(readFileSync(join(dir, "main.o"))).toEqual(await localObject(dir, args.slice(1), "main.o"));
});

describe("tiers", () => {
  const args = ["-O2", "-Iinclude", "-DTIERS", "-c", "src/main.c", "-o", "main.o"];

  test("a restarted agent and a second agent on another dir with the same Redis hit", async () => {
    const dir = workspace();
    const cacheDir = join(sharedTempDir("cache-"), "dir");
    {
      await using first = await cachedAgent({ cacheDir, redis: redis.url });
      expect((await compile(first, dir, args)).cache).toBe("miss");
      // The stores run after the reply: Redis must have it; the disk write is finished by the stop.
      await until(async () => metric(await metrics(first), 'distccd_cache_stores_total{tier="redis"}') === 1, "the store in Redis");
    }
    const fresh = await localObject(dir, args, "main.o");
    {
      await using restarted = await cachedAgent({ cacheDir });
      expect((await compile(restarted, dir, args)).cache).toBe("hit-disk");
      expect(readFileSync(join(dir, "main.o"))).toEqual(fresh);
    }
    await using second = await cachedAgent({ redis: redis.url });
    expect((await compile(second, dir, args)).cache).toBe("hit-redis");
    expect(readFileSync(join(dir, "main.o"))).toEqual(fresh);
    expect((await compile(second, dir, args)).cache).toBe("hit-disk");
  });

  test("corrupted entries on disk and in Redis are misses, removed and counted", async () => {
    const dir = workspace();
    await using local = await cachedAgent({ redis: redis.url });
    writeFileSync(join(dir, "corrupt.c"), "int corrupt(int x) { return x ^ 0x5a; }\n");
    const corruptArgs = ["-O2", "-c", "corrupt.c", "-o", "main.o"];
    expect((await compile(local, dir, corruptArgs)).cache).toBe("miss");
    await until(async () => metric(await metrics(local), 'distccd_cache_stores_total{tier="redis"}') === 1, "the store in Redis");
    await until(async () => metric(await metrics(local), 'distccd_cache_stores_total{tier="disk"}') === 1, "the store on disk");
    const shard = readdirSync(local.cacheDir).find((name) => /^[0-9a-f]{2}$/.test(name)) as string;
    const name = readdirSync(join(local.cacheDir, shard))[0] as string;
    const file = join(local.cacheDir, shard, name);
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const client = redis.client();
    const redisKey = `distccd:1:${shard}${name}`;
    const shared = (await client.getBuffer(redisKey)) as Uint8Array;
    shared[shared.length - 10] = (shared[shared.length - 10] as number) ^ 0xff;
    await client.set(redisKey, shared);
    const again = await compile(local, dir, corruptArgs);
    expect(again).toMatchObject({ exitCode: 0, cache: "miss" });
    expect(readFileSync(join(dir, "main.o"))).toEqual(await localObject(dir, corruptArgs, "main.o"));
    const text = await metrics(local);
    expect(metric(text, 'distccd_cache_corrupt_entries_total{tier="disk"}')).toBe(1);
    expect(metric(text, 'distccd_cache_corrupt_entries_total{tier="redis"}')).toBe(1);
  });
});

test("identical concurrent jobs share one compile; identical failures are not shared", async () => {
  const root = sharedTempDir("slow-cc-");
  const bin = join(root, "bin");
  mkdirSync(bin, { mode: 0o755 });
  writeFileSync(join(bin, "slow-gcc"), `#!/bin/sh\nsleep 1\nexec powerpc-linux-gnu-gcc "$@"\n`);
  chmodSync(join(bin, "slow-gcc"), 0o755);
  const whitelist = join(root, "whitelist");
  writeFileSync(whitelist, "slow-gcc\n", { mode: 0o644 });
  await using local = await cachedAgent({ extraPath: bin, args: ["--whitelist", whitelist, "--log-level", "info"] });
  const dir = workspace();
  const hosts = `127.0.0.1:${local.port}/8`;
  const env = { PATH: `${bin}:${toolchain().bin}:${process.env.PATH}` };
  const jobs = (source: string) =>
    Promise.all([0, 1, 2].map((i) => distcc(["slow-gcc", "-Iinclude", "-c", source, "-o", `out${i}.o`], { hosts, cwd: dir, env })));
  // The agent logs each compile it runs (not the jobs answered from the cache or another job).
  const compiles = () => local.log().match(/running job from/g)?.length ?? 0;
  const ok = await jobs("src/geometry.c");
  expect(ok.map((result) => result.exitCode)).toEqual([0, 0, 0]);
  expect(readFileSync(join(dir, "out1.o"))).toEqual(readFileSync(join(dir, "out0.o")));
  expect(readFileSync(join(dir, "out2.o"))).toEqual(readFileSync(join(dir, "out0.o")));
  await until(() => (local.log().match(/dcc_job_summary/g)?.length ?? 0) >= 3, "the three jobs' log lines");
  expect(compiles()).toBe(1);
  expect(metric(await metrics(local), "distccd_cache_shared_results_total")).toBe(2);
  writeFileSync(join(dir, "bad.c"), "int x = ;\n");
  const before = compiles();
  const failed = await jobs("bad.c");
  expect(failed.map((result) => result.exitCode)).toEqual([1, 1, 1]);
  for (const result of failed) expect(result.stderr).toContain("error: expected expression");
  expect(compiles() - before).toBe(3);
});

test("Redis stopped, then paused mid-build: every job finishes with the right object, each lookup bounded", async () => {
  await using own = await startRedis();
  await using local = await cachedAgent({ redis: own.url });
  const dir = workspace();
  const unit = (n: number) => {
    writeFileSync(join(dir, `unit${n}.c`), `int unit${n}(int x) { return x * ${n}; }\n`);
    return ["-O2", "-c", `unit${n}.c`, "-o", `unit${n}.o`];
  };
  const build = async (from: number) => {
    for (let n = from; n < from + 3; n++) {
      const args = unit(n);
      const since = local.log().length;
      const result = await compile(local, dir, args);
      expect(result).toMatchObject({ exitCode: 0, cache: "miss" });
      const time = Number((await local.waitForLog(/dcc_job_summary.* time=(\d+)ms/, { since }))[1]);
      // A lookup waits 500 ms at most; a stalled one would hang the job until the client gives up.
      expect(time).toBeLessThan(5000);
      expect(readFileSync(join(dir, `unit${n}.o`))).toEqual(await localObject(dir, args, `unit${n}.o`));
    }
  };
  await build(0);
  await own.stop();
  await build(10);
  await own.start();
  own.pause();
  await build(20);
  own.resume();
  const text = await metrics(local);
  expect(
    metric(text, 'distccd_cache_redis_errors_total{operation="connect"}') +
      metric(text, 'distccd_cache_redis_errors_total{operation="get"}'),
  ).toBeGreaterThan(0);
  expect(local.log()).toMatch(/redis redis:\/\/127\.0\.0\.1:\d+\/? failed/);
});

test("observable: --stats totals, /metrics series, --version tiers; the Redis URL never reaches compilers", async () => {
  const dir = workspace();
  const root = sharedTempDir("env-cc-");
  const bin = join(root, "bin");
  mkdirSync(bin, { mode: 0o755 });
  const seen = join(root, "env");
  writeFileSync(
    join(bin, GCC),
    `#!/bin/sh\nenv > ${seen}\ncat /proc/$PPID/environ >> ${seen} 2>/dev/null\nexec /usr/bin/powerpc-linux-gnu-gcc "$@"\n`,
  );
  chmodSync(join(bin, GCC), 0o755);
  chmodSync(root, 0o777);
  // Started as an unprivileged user, as in a pod: no switch of users hides the agent's /proc files.
  const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
  await using local = await cachedAgent({ redis: redis.url, extraPath: bin, prefix: nobody });
  expect((await compile(local, dir, ["-c", "src/geometry.c", "-Iinclude", "-o", "g.o"])).exitCode).toBe(0);
  const environment = readFileSync(seen, "utf8");
  expect(environment).toContain("_DISTCC_SAFEGUARD=1");
  expect(environment).not.toContain("s3cret-pass");
  expect(local.log()).not.toContain("s3cret-pass");
  const stats = await (await fetch(`http://127.0.0.1:${local.statsPort}/`)).text();
  expect(stats).toMatch(/dcc_cache_miss 1\n/);
  expect(stats).toMatch(/dcc_cache_entries \d+\n/);
  // /status (the farm) and /api/jobs (the monitor) carry the cache's state and each job's answer.
  const status = (await (await fetch(`http://127.0.0.1:${local.statsPort}/status`)).json()) as {
    cache: { enabled: boolean; redis: { url: string } };
  };
  expect(status.cache.enabled).toBe(true);
  expect(status.cache.redis.url).not.toContain("s3cret-pass");
  const jobs = (await (await fetch(`http://127.0.0.1:${local.statsPort}/api/jobs`)).json()) as {
    agent: { cache: { hits: number; misses: number } | null };
    finished: { cache?: string }[];
  };
  expect(jobs.finished.map((job) => job.cache)).toEqual(["miss"]);
  expect(jobs.agent.cache).toEqual({ hits: 0, misses: 1 });
  const text = await metrics(local);
  for (const name of ["distccd_cache_lookups_total", "distccd_cache_stores_total", "distccd_cache_entries", "distccd_cache_bytes"])
    expect(text).toContain(`# TYPE ${name}`);
  const version = await run([agentBinary(), "--version", "--cache-dir", "/tmp/x", "--cache-redis-mode", "ro"], dir, {
    DISTCCD_CACHE_REDIS: redis.url,
  });
  expect(version.stdout).toMatch(/cache: disk \/tmp\/x \(2048 MiB\), redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? \(ro, ttl 604800s\)/);
});

function agentBinary(): string {
  return join(import.meta.dir, "../../../dist/distccd");
}
