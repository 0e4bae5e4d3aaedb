/**
 * Running the agent in production: the stats port (C text, Prometheus, health), graceful drain
 * on SIGTERM, every limit as a logged and counted refusal, compilers killed when their client
 * leaves or their time is up, and clients that stall, flood or fuzz the compile port.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { encodeHeader } from "../../src/protocol/encode.ts";
import { AGENT_BINARY, type Agent, freePort, jobLeftovers, sharedTempDir, startAgent } from "../helpers/agent.ts";
import { distcc, run } from "../helpers/distcc.ts";
import { slowCompiler } from "../helpers/slow-compiler.ts";
import { compileRequest, concat, exchange, parseReply, pumpRequest } from "../helpers/tokens.ts";
import { GCC, toolchain } from "../helpers/toolchain.ts";
import { alive, until } from "../helpers/wait.ts";
import { workspace } from "../helpers/workspace.ts";

const good = (compiler = GCC) => compileRequest(2, [compiler, "-c", "x.c", "-o", "x.o"], "int x = 1;\n");

async function statsAgent(extra: string[] = [], allow = ["127.0.0.1"]): Promise<Agent & { statsPort: number }> {
  const statsPort = freePort();
  const agent = await startAgent({ allow, args: ["--stats", "--stats-port", String(statsPort), ...extra] });
  return Object.assign(agent, { statsPort });
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

describe("the stats port", () => {
  test("the C server's counters, with the same names", async () => {
    await using agent = await statsAgent();
    expect(parseReply(await exchange(agent.port, good())).status).toBe(0);
    const { status, body } = await get(agent.statsPort, "/");
    expect(status).toBe(200);
    for (const line of [
      "<distccstats>",
      "dcc_tcp_accept 1",
      "dcc_compile_ok 1",
      "dcc_rej_bad_req 0",
      "dcc_max_kids 4",
      "dcc_longest_job x.c",
      `dcc_longest_job_compiler ${GCC}`,
      "</distccstats>",
    ]) {
      expect(body).toContain(line);
    }
    for (const name of [
      "dcc_rej_overload",
      "dcc_compile_error",
      "dcc_compile_timeout",
      "dcc_cli_disconnect",
      "dcc_other",
      "dcc_avg_kids1",
      "dcc_load1",
      "dcc_num_compiles1",
      "dcc_max_RSS",
      "dcc_io_rate",
      "dcc_free_space",
      "dcc_free_mem",
    ]) {
      expect(body).toMatch(new RegExp(`^${name} \\S+`, "m"));
    }
  });

  test("Prometheus metrics: jobs by outcome and protocol, durations, bytes, slots, refusals by reason", async () => {
    // Listening on :: so that a client on ::1 is outside the IPv4-only allow list.
    const statsPort = freePort();
    await using agent = await startAgent({ listen: "::", allow: ["127.0.0.1"], args: ["--stats", "--stats-port", String(statsPort)] });
    expect(parseReply(await exchange(agent.port, good())).status).toBe(0);
    expect(parseReply(await exchange(agent.port, compileRequest(1, [GCC, "-c", "bad.c"], "int x = ;\n"))).status).toBe(1 << 8);
    expect((await exchange(agent.port, good(), { hostname: "::1" })).length).toBe(0);
    expect((await exchange(agent.port, encodeHeader("DIST", 9))).length).toBe(0);
    await agent.waitForLog(/unsupported protocol version 9/);
    const { status, body } = await get(statsPort, "/metrics");
    expect(status).toBe(200);
    const families = new Map(parsePrometheusTextFormat(body).map((family) => [family.name, family]));
    const value = (name: string, labels: Record<string, string> = {}) =>
      Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);
    expect(value("distccd_jobs_total", { outcome: "COMPILE_OK", protocol: "2" })).toBe(1);
    expect(value("distccd_jobs_total", { outcome: "COMPILE_ERROR", protocol: "1" })).toBe(1);
    expect(value("distccd_refusals_total", { reason: "access-list" })).toBe(1);
    expect(value("distccd_refusals_total", { reason: "E_PROTOCOL_VERSION" })).toBe(1);
    expect(value("distccd_connections_total")).toBe(3);
    expect(value("distccd_bytes_total", { direction: "in" })).toBeGreaterThan(0);
    expect(value("distccd_jobs_max")).toBe(4);
    expect(value("distccd_jobs_active")).toBe(0);
    expect(value("distccd_jobs_queued")).toBe(0);
    expect(value("distccd_draining")).toBe(0);
    const histogram = families.get("distccd_job_duration_seconds");
    expect(histogram?.type).toBe("HISTOGRAM");
    expect(histogram?.metrics[0]?.buckets?.["+Inf"]).toBeDefined();
    // The parser folds labelled histogram series together, so their counts are read from the text.
    expect(body).toContain('distccd_job_duration_seconds_count{protocol="2"} 1');
    expect(body).toContain('distccd_job_duration_seconds_count{protocol="1"} 1');
  });

  test("counters honour --allow; /healthz and /readyz answer anyone", async () => {
    await using agent = await statsAgent([], ["10.0.0.0/8"]);
    expect(await get(agent.statsPort, "/healthz")).toEqual({ status: 200, body: "ok\n" });
    expect(await get(agent.statsPort, "/readyz")).toEqual({ status: 200, body: "ready\n" });
    expect((await get(agent.statsPort, "/")).status).toBe(403);
    expect((await get(agent.statsPort, "/metrics")).status).toBe(403);
  });

  test("--health-check exits 0 against a live agent and 1 when nothing answers", async () => {
    const cwd = sharedTempDir("health-");
    await using withStats = await statsAgent();
    expect(await run([AGENT_BINARY, "--health-check", "--stats-port", String(withStats.statsPort), "--port", "1"], cwd)).toMatchObject({
      exitCode: 0,
      stdout: expect.stringContaining("/healthz"),
    });
    await using plain = await startAgent();
    expect(
      (await run([AGENT_BINARY, "--health-check", "--stats-port", String(freePort()), "--port", String(plain.port)], cwd)).exitCode,
    ).toBe(0);
    const nothing = await run([AGENT_BINARY, "--health-check", "--stats-port", String(freePort()), "--port", String(freePort())], cwd);
    expect(nothing).toMatchObject({ exitCode: 1, stdout: expect.stringContaining("unhealthy") });
  });

  test("--log-format json writes one object per line", async () => {
    await using agent = await startAgent({ args: ["--log-format", "json"] });
    expect(parseReply(await exchange(agent.port, good())).status).toBe(0);
    await agent.waitForLog(/COMPILE_OK/);
    const lines = agent
      .log()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.find((line) => line.context === "dcc_job_summary")).toMatchObject({
      level: "notice",
      protocol: 2,
      compiler: GCC,
      input: "x.c",
      status: 0,
    });
  });
});

test("SIGHUP reopens --log-file, so logrotate can move it away", async () => {
  const dir = sharedTempDir("log-rotate-");
  const logFile = join(dir, "distccd.log");
  const agent = Bun.spawn(
    [
      AGENT_BINARY,
      "--daemon",
      "--no-detach",
      "--listen",
      "127.0.0.1",
      "--port",
      String(freePort()),
      "--allow",
      "127.0.0.1",
      "--log-file",
      logFile,
      "--whitelist",
      toolchain().whitelist,
    ],
    {
      env: { ...process.env, PATH: `${toolchain().bin}:${process.env.PATH}`, TMPDIR: dir },
      stdout: "ignore",
      stderr: "ignore",
    },
  );
  try {
    await until(() => existsSync(logFile) && readFileSync(logFile, "utf8").includes("listening on"), "the log file");
    const port = Number(readFileSync(logFile, "utf8").match(/listening on 127\.0\.0\.1:(\d+)/)?.[1]);
    renameSync(logFile, `${logFile}.1`);
    agent.kill("SIGHUP");
    await until(() => existsSync(logFile), "the reopened log file");
    expect(parseReply(await exchange(port, good())).status).toBe(0);
    await until(() => readFileSync(logFile, "utf8").includes("COMPILE_OK"), "the job in the new file");
    expect(readFileSync(`${logFile}.1`, "utf8")).not.toContain("COMPILE_OK");
  } finally {
    agent.kill("SIGTERM");
    await agent.exited;
  }
});

describe("graceful drain", () => {
  test("SIGTERM during a compile: the client still gets its object, /readyz turns false, new clients are refused, exit 0", async () => {
    const slow = slowCompiler();
    const statsPort = freePort();
    await using agent = await startAgent(slow.agentOptions(2, ["--stats", "--stats-port", String(statsPort), "--log-level", "info"]));
    const reply = exchange(agent.port, good(slow.name));
    await agent.waitForLog(/running job from/);
    process.kill(agent.pid, "SIGTERM");
    await agent.waitForLog(/terminating \(SIGTERM\): 1 connection\(s\) in flight/);
    expect(await get(statsPort, "/readyz")).toEqual({ status: 503, body: "draining\n" });
    await expect(exchange(agent.port, good())).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const result = parseReply(await reply);
    expect(result.status).toBe(0);
    expect(result.object.subarray(1, 4)).toEqual(new TextEncoder().encode("ELF"));
    expect(await agent.stop()).toBe(0);
    // Stopped: not even the empty job dirs kept for reuse are left.
    expect(readdirSync(agent.tmpDir)).toEqual([]);
  });

  test("jobs still running after --shutdown-grace are killed, with their compilers", async () => {
    const slow = slowCompiler();
    await using agent = await startAgent(slow.agentOptions(30, ["--shutdown-grace", "1", "--log-level", "info"]));
    const reply = exchange(agent.port, good(slow.name));
    await agent.waitForLog(/running job from/);
    await until(() => alive(slow.sleepPid()), "the compiler to start");
    expect(await agent.stop()).toBe(0);
    expect(agent.log()).toContain("still running after 1s: killing their compilers");
    expect((await reply).length).toBe(0);
    await until(() => !alive(slow.sleepPid()), "the compiler's process group to die");
    expect(jobLeftovers(agent.tmpDir)).toEqual([]);
  });
});

describe("compilers that must stop", () => {
  test("--job-lifetime kills the compiler's process group and answers 118", async () => {
    const slow = slowCompiler();
    await using agent = await startAgent(slow.agentOptions(30, ["--job-lifetime", "1"]));
    const reply = parseReply(await exchange(agent.port, good(slow.name)));
    expect(reply.status).toBe(118 << 8);
    expect(reply.stderr).toContain("Compilation takes too long, timeout.");
    await agent.waitForLog(/killed after --job-lifetime 1s/);
    await until(() => !alive(slow.sleepPid()), "the compiler's process group to die");
  });

  test("--nice lowers every thread of the agent, and the compilers it runs", async () => {
    const slow = slowCompiler();
    await using agent = await startAgent(slow.agentOptions(30, ["--nice", "7"]));
    const niceness = (path: string) => {
      const stat = readFileSync(path, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    };
    const expected = Math.min(19, niceness("/proc/self/stat") + 7);
    const job = exchange(agent.port, good(slow.name));
    await until(() => slow.sleepPid() !== undefined && alive(slow.sleepPid() as number), "the compiler to start");
    const threads = readdirSync(`/proc/${agent.pid}/task`);
    expect(threads.length).toBeGreaterThan(1);
    expect(threads.map((tid) => niceness(`/proc/${agent.pid}/task/${tid}/stat`))).toEqual(threads.map(() => expected));
    expect(niceness(`/proc/${slow.sleepPid()}/stat`)).toBe(expected);
    process.kill(slow.sleepPid() as number, "SIGKILL");
    expect(parseReply(await job).status).toBe(0);
  });

  test("a client that disconnects mid-compile takes its compiler with it", async () => {
    const slow = slowCompiler();
    await using agent = await startAgent(slow.agentOptions(30, ["--log-level", "info"]));
    const client = await Bun.connect({ hostname: "127.0.0.1", port: agent.port, socket: { data() {} } });
    client.write(good(slow.name));
    await until(() => alive(slow.sleepPid()), "the compiler to start");
    client.terminate();
    await until(() => !alive(slow.sleepPid()), "the compiler's process group to die");
    await agent.waitForLog(/disconnected, killing job/);
    await until(() => jobLeftovers(agent.tmpDir).length === 0, "the job dir to go");
  });

  test("--max-output-bytes stops a compiler whose object is too large", async () => {
    await using agent = await startAgent({ args: ["--max-output-bytes", "2000"] });
    const source = `char big[100000] = {1};\n`;
    const reply = parseReply(await exchange(agent.port, compileRequest(2, [GCC, "-c", "big.c", "-o", "big.o"], source)));
    expect(reply.status).toBe(107 << 8);
    expect(reply.stderr).toContain("compiler object exceeds the limit of 2000 bytes (--max-output-bytes)");
    await agent.waitForLog(/stopped: compiler output over --max-output-bytes 2000/);
  });
});

describe("limits, each a logged and counted refusal", () => {
  test.each([
    [["--max-argc", "3"], compileRequest(1, [GCC, "-c", "x.c", "-o", "x.o"], "int x;"), /ARGC 5 exceeds the limit of 3/],
    [
      ["--max-arg-bytes", "256"],
      compileRequest(1, [GCC, `-D${"X".repeat(300)}`, "-c", "x.c"], "int x;"),
      /ARGV string of 302 bytes exceeds the limit of 256/,
    ],
    [
      ["--max-source-bytes", "100"],
      compileRequest(1, [GCC, "-c", "x.c"], "int x;".repeat(50)),
      /DOTI body of 300 bytes exceeds the limit of 100/,
    ],
    [
      ["--max-files", "2"],
      pumpRequest("/src", [GCC, "-c", "x.c"], [{ name: "/src/x.c", file: "" }], 3),
      /NFIL 3 exceeds the limit of 2 files/,
    ],
  ])("%j", async (flags, request, reason) => {
    await using agent = await startAgent({ args: flags });
    expect((await exchange(agent.port, request)).length).toBe(0);
    await agent.waitForLog(reason);
    expect(parseReply(await exchange(agent.port, compileRequest(2, [GCC, "-c", "x.c"], "int x;"))).status).toBe(0);
  });

  test("--max-pump-bytes refuses a pump job whose files are too large, with a reason", async () => {
    await using agent = await startAgent({ args: ["--max-pump-bytes", "1000"] });
    const reply = parseReply(
      await exchange(agent.port, pumpRequest("/src", [GCC, "-c", "x.c"], [{ name: "/src/x.c", file: "int x;".repeat(300) }])),
    );
    expect(reply.status).toBe(109 << 8);
    expect(reply.stderr).toContain("exceed the limit of 1000 bytes");
  });

  test("--max-queue: a job beyond the queue is told the server is busy, and counted as dcc_rej_overload", async () => {
    const slow = slowCompiler();
    const statsPort = freePort();
    await using agent = await startAgent({
      jobs: 1,
      ...slow.agentOptions(2, ["--max-queue", "0", "--stats", "--stats-port", String(statsPort), "--log-level", "info"]),
    });
    const first = exchange(agent.port, good(slow.name));
    await agent.waitForLog(/running job from/);
    const busy = parseReply(await exchange(agent.port, good()));
    expect(busy.status).toBe(114 << 8);
    expect(busy.stderr).toContain("server busy");
    expect(parseReply(await first).status).toBe(0);
    expect((await get(statsPort, "/")).body).toContain("dcc_rej_overload 1");
  });

  test("--max-connections closes connections beyond the limit at once", async () => {
    await using agent = await startAgent({ args: ["--max-connections", "3"] });
    const held = await Promise.all(
      Array.from({ length: 3 }, () => Bun.connect({ hostname: "127.0.0.1", port: agent.port, socket: { data() {} } })),
    );
    await until(() => true, "connections");
    expect((await exchange(agent.port, good())).length).toBe(0);
    await agent.waitForLog(/3 connections are open \(--max-connections\)/);
    for (const socket of held) socket.end();
    await until(async () => (await exchange(agent.port, good())).length > 0, "a free connection");
  });
});

describe("clients that stall", () => {
  test("100 slowloris connections do not stop real compiles with --jobs 2, and are dropped after --client-timeout", async () => {
    const statsPort = freePort();
    await using agent = await startAgent({ jobs: 2, args: ["--client-timeout", "3", "--stats", "--stats-port", String(statsPort)] });
    const partial = concat([encodeHeader("DIST", 1), encodeHeader("ARGC", 5)]).subarray(0, 20);
    const stalled = await Promise.all(
      Array.from({ length: 100 }, () =>
        Bun.connect({
          hostname: "127.0.0.1",
          port: agent.port,
          socket: {
            open(socket) {
              socket.write(partial);
            },
            data() {},
          },
        }),
      ),
    );
    const dir = workspace();
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        distcc([GCC, "-Iinclude", "-c", "src/main.c", "-o", `m${i}.o`], { hosts: `127.0.0.1:${agent.port}/4,lzo`, cwd: dir }),
      ),
    );
    expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0, 0]);
    await until(
      () => (agent.log().match(/sent nothing for 3s: dropped \(idle timeout\)/g)?.length ?? 0) >= 100,
      "the stalled clients to be dropped",
      20_000,
    );
    for (const socket of stalled) socket.end();
    expect((await get(statsPort, "/metrics")).body).toContain('distccd_refusals_total{reason="idle-timeout"} 100');
  });

  test("a client that stops reading its reply is dropped after --client-timeout, and the agent serves on", async () => {
    const noisy = sharedTempDir("noisy-");
    const script = `${noisy}/noisy-cc`;
    await Bun.write(script, "#!/bin/sh\nhead -c 40000000 /dev/zero >&2\nexit 1\n");
    await run(["chmod", "755", script], noisy);
    await Bun.write(`${noisy}/whitelist`, "noisy-cc\n");
    await run(["chmod", "644", `${noisy}/whitelist`], noisy);
    await using agent = await startAgent({ extraPath: noisy, args: ["--whitelist", `${noisy}/whitelist`, "--client-timeout", "2"] });
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: agent.port,
      socket: {
        open(s) {
          s.write(compileRequest(1, ["noisy-cc", "-c", "x.c", "-o", "x.o"], "int x;"));
          s.pause();
        },
        data() {},
      },
    });
    await agent.waitForLog(/did not read its reply for 2s: dropped \(idle timeout\)/, { timeoutMs: 20_000 });
    socket.end();
    await using healthy = await startAgent();
    expect(parseReply(await exchange(healthy.port, good())).status).toBe(0);
    await until(() => jobLeftovers(agent.tmpDir).length === 0, "the job dir to go");
  });
});

describe("a seeded fuzzer over token streams", () => {
  /** mulberry32: a small PRNG, so every run sends the same streams. */
  function prng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  test("300 mutated requests: the agent stays up, bounded, and leaves nothing behind", async () => {
    await using agent = await startAgent({ args: ["--client-timeout", "5"] });
    const random = prng(20261126);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const seeds = [
      compileRequest(1, [GCC, "-c", "x.c", "-o", "x.o"], "int x;\n"),
      compileRequest(2, [GCC, "-O2", "-c", "y.c"], "int y(void) { return 2; }\n"),
      pumpRequest(
        "/src",
        [GCC, "-c", "m.c", "-o", "m.o"],
        [
          { name: "/src/m.c", file: "int m;\n" },
          { name: "/src/h", link: "m.c" },
        ],
      ),
    ];
    const mutations: ((bytes: Uint8Array) => Uint8Array)[] = [
      (b) => b.subarray(0, Math.floor(random() * b.length)),
      (b) => {
        const c = b.slice();
        for (let i = 0; i < 1 + random() * 8; i++) c[Math.floor(random() * c.length)] = Math.floor(random() * 256);
        return c;
      },
      (b) => {
        const c = b.slice();
        const at = Math.floor(random() * (c.length - 12));
        c.set(new TextEncoder().encode(pick(["DIST", "ARGC", "ARGV", "DOTI", "NFIL", "NAME", "FILE", "LINK", "CDIR"])), at);
        return c;
      },
      (b) => {
        const c = b.slice();
        const at = Math.floor(random() * (c.length - 12));
        c.set(
          new TextEncoder().encode(
            Math.floor(random() * 0xffffffff)
              .toString(16)
              .padStart(8, "0"),
          ),
          at + 4,
        );
        return c;
      },
      (b) =>
        concat([
          b.subarray(0, Math.floor(random() * b.length)),
          new Uint8Array(Array.from({ length: 64 }, () => Math.floor(random() * 256))),
        ]),
    ];
    for (let round = 0; round < 300; round++) {
      const stream = pick(mutations)(pick(seeds));
      await exchange(agent.port, stream, { hangUp: true });
    }
    expect(parseReply(await exchange(agent.port, good())).status).toBe(0);
    const rssKiB = Number(readFileSync(`/proc/${agent.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1]);
    expect(rssKiB).toBeLessThan(256 * 1024);
    await until(() => jobLeftovers(agent.tmpDir).length === 0, "every job dir to go");
    expect(agent.log()).not.toContain("CRITICAL! E_INTERNAL");
  });
});
