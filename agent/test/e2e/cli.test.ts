/**
 * The executable's command line and process behaviour, as scripts and init systems see it:
 * output of --version/--help, exit codes (101 bad options, 102 cannot bind; 107 for start-up paths
 * is startup-paths.test.ts), repeated flags, detaching with a pid file, --lifetime, SIGTERM, and
 * --inetd.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parser } from "../../src/cli.ts";
import { type Config, parseConfig } from "../../src/config.ts";
import { AGENT_BINARY, freePort, sharedTempDir, startAgent } from "../helpers/agent.ts";
import { run } from "../helpers/distcc.ts";
import { compileRequest, exchange, parseReply } from "../helpers/tokens.ts";
import { GCC, toolchain } from "../helpers/toolchain.ts";
import { alive, until } from "../helpers/wait.ts";

const cwd = sharedTempDir("cli-");

describe("--version and --help", () => {
  test("--version prints the C server's shape that scripts parse", async () => {
    const result = await run([AGENT_BINARY, "--version"], cwd);
    expect(result.exitCode).toBe(0);
    const [first, second] = result.stdout.split("\n");
    expect(first).toMatch(/^distccd \d+\.\d+\.\d+ \S+-linux-gnu$/);
    expect(second).toBe("  (protocols 1, 2 and 3) (default port 3632)");
  });

  test("--help prints usage and every flag a container uses", async () => {
    const result = await run([AGENT_BINARY, "--help"], cwd);
    expect(result.exitCode).toBe(0);
    for (const flag of ["Usage:", "--daemon", "--no-detach", "--allow", "--log-stderr", "--whitelist", "--jobs", "--stats-port"]) {
      expect(result.stdout).toContain(flag);
    }
  });
});

describe("exit code 101 for bad options", () => {
  test.each([
    [["--bogus-option"], "--bogus-option: unknown option"],
    [["--daemon", "--port", "70000"], "port number out of range"],
    [["--daemon", "--allow", "1.2.3.4/40"], "--allow 1.2.3.4/40"],
    [["--daemon", "--jobs", "0"], "--jobs 0"],
  ])("%j", async (args, message) => {
    const result = await run([AGENT_BINARY, ...args], cwd);
    expect(result.exitCode).toBe(101);
    expect(result.stderr).toContain(`distccd: ERROR: `);
    expect(result.stderr).toContain(message);
  });
});

async function parse(argv: readonly string[]): Promise<Config> {
  return await parseConfig(argv, { PATH: "/usr/bin:/bin", TMPDIR: "/var/tmp" });
}

/** The Config a command line gives as data (the access lists' functions left out), or the message it is refused with. */
async function configOf(argv: readonly string[]): Promise<unknown> {
  try {
    return JSON.parse(JSON.stringify(await parse(argv)));
  } catch (error) {
    return (error as Error).message;
  }
}

/** Every numeric flag, found by its default, so that a flag added later is covered too. */
const NUMERIC_FLAGS = Object.entries(parser.parseSync([]))
  .filter(([name, value]) => typeof value === "number" && /^[a-z-]+$/.test(name))
  .map(([name]) => `--${name}`);

describe("a repeated flag takes its last value, as with the C server's popt; list flags add up", () => {
  test("the numeric flags are found", () => {
    expect(NUMERIC_FLAGS).toEqual(expect.arrayContaining(["--jobs", "--port", "--nice", "--max-queue", "--keepalive"]));
  });

  // yargs-parser added a repeated number flag's value 1 to the value before it (yargs-parser#506).
  test.each(NUMERIC_FLAGS)("%s 3 then 1 is 1", async (flag) => {
    expect(await configOf([flag, "3", flag, "1"])).toEqual(await configOf([flag, "1"]));
    expect(await configOf([flag, "1", flag, "1", flag, "1"])).toEqual(await configOf([flag, "1"]));
  });

  test.each([
    [
      ["--jobs", "4", "--jobs", "1"],
      ["--jobs", "1"],
    ],
    [
      ["-j", "4", "-j1"],
      ["--jobs", "1"],
    ],
    [
      ["--jobs=4", "-j", "1"],
      ["--jobs", "1"],
    ],
    [
      ["-N", "3", "--nice", "-5"],
      ["--nice", "-5"],
    ],
    [
      ["-p", "4000", "--port", "1"],
      ["--port", "1"],
    ],
    [
      ["--listen", "127.0.0.1", "--listen", "::1"],
      ["--listen", "::1"],
    ],
    [
      ["--log-level", "info", "--log-level", "error"],
      ["--log-level", "error"],
    ],
    [
      ["--log-format", "json", "--log-format", "text"],
      ["--log-format", "text"],
    ],
    [
      ["--sandbox", "off", "--sandbox", "required"],
      ["--sandbox", "required"],
    ],
    [
      ["--cache-size", "1G", "--cache-size", "3M"],
      ["--cache-size", "3M"],
    ],
    [
      ["--cache-dir", "/a", "--cache-dir", "/b"],
      ["--cache-dir", "/b"],
    ],
    [
      ["--min-free-space", "1G", "--min-free-space", "1"],
      ["--min-free-space", "1"],
    ],
    [
      ["-P", "/run/a.pid", "--pid-file", "/run/b.pid"],
      ["--pid-file", "/run/b.pid"],
    ],
    [
      ["--whitelist", "/a", "--whitelist", "/b"],
      ["--whitelist", "/b"],
    ],
    [
      ["--advertise", "a.example:1", "--advertise", "b.example:2"],
      ["--advertise", "b.example:2"],
    ],
    [["--no-detach", "--detach"], ["--detach"]],
    [["--detach", "--no-detach"], ["--no-detach"]],
  ])("%j is %j", async (twice, once) => {
    expect(await configOf(twice)).toEqual(await configOf(once));
  });

  test("--allow, --stats-allow and --peers add up", async () => {
    const config = await parse([
      "--allow",
      "10.0.0.1",
      "-a",
      "10.0.0.2",
      "--allow",
      "10.0.0.3",
      "--stats",
      "--stats-allow",
      "10.0.1.1",
      "--stats-allow",
      "10.0.1.2",
      "--peers",
      "a.example,b.example",
      "--peers",
      "c.example",
    ]);
    expect(config.allow.rules).toEqual(["10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32"]);
    expect(config.statsAllow.rules).toEqual(["10.0.1.1/32", "10.0.1.2/32"]);
    expect(config.farm.peers.map((peer) => peer.host)).toEqual(["a.example", "b.example", "c.example"]);
  });

  test("distccd --jobs 4 --jobs 1 allows one job at a time, as the C distccd does", async () => {
    const c = await run(
      ["distccd", "--daemon", "--no-detach", "--log-stderr", "--verbose", "--listen", "127.0.0.1", "--port", String(freePort())].concat([
        "--allow",
        "127.0.0.1",
        "--jobs",
        "4",
        "--jobs",
        "1",
        "--lifetime",
        "1",
      ]),
      cwd,
    );
    expect(c.stderr).toContain("allowing up to 1 active jobs");
    await using agent = await startAgent({ jobs: 4, args: ["--jobs", "1"] });
    expect(agent.log()).toContain("allowing up to 1 active jobs");
  });
});

const baseArgs = (port: number) => [
  "--daemon",
  "--listen",
  "127.0.0.1",
  "--port",
  String(port),
  "--allow",
  "127.0.0.1",
  "--whitelist",
  toolchain().whitelist,
];

describe("exit code 102 when the port is taken", () => {
  test.each([
    ["in the foreground", ["--no-detach"]],
    ["when detaching", []],
  ])("%s", async (_name, extra) => {
    const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const result = await run([AGENT_BINARY, ...baseArgs(busy.port), ...extra], cwd, { TMPDIR: sharedTempDir("bind-tmp-") });
      expect(result.exitCode).toBe(102);
      expect(result.stderr).toContain(`failed to bind 127.0.0.1 port ${busy.port}`);
    } finally {
      busy.stop(true);
    }
  });
});

test("--daemon detaches once bound, writes the detached pid, and removes it on SIGTERM", async () => {
  const port = freePort();
  const pidFile = join(sharedTempDir("pid-"), "distccd.pid");
  const result = await run([AGENT_BINARY, ...baseArgs(port), "--pid-file", pidFile], cwd, { TMPDIR: sharedTempDir("detached-tmp-") });
  expect(result.exitCode).toBe(0);
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  expect(pid).toBeGreaterThan(1);
  expect(alive(pid)).toBe(true);
  const reply = parseReply(await exchange(port, compileRequest(2, [GCC, "-c", "x.c", "-o", "x.o"], "int x;\n")));
  expect(reply.status).toBe(0);
  process.kill(pid, "SIGTERM");
  await until(() => !alive(pid), "the daemon to exit");
  expect(existsSync(pidFile)).toBe(false);
});

test("--no-detach writes its own pid", async () => {
  const pidFile = join(sharedTempDir("pid-"), "distccd.pid");
  await using agent = await startAgent({ args: ["--pid-file", pidFile] });
  expect(Number(readFileSync(pidFile, "utf8"))).toBe(agent.pid);
  expect(await agent.stop()).toBe(0);
  expect(existsSync(pidFile)).toBe(false);
});

test("--lifetime ends the server by itself, with status 0", async () => {
  await using agent = await startAgent({ args: ["--lifetime", "1"] });
  await agent.waitForLog(/terminating \(--lifetime 1s\)/, { timeoutMs: 10_000 });
  expect(await agent.stop()).toBe(0);
});

test("SIGTERM ends the server with status 0", async () => {
  await using agent = await startAgent();
  expect(await agent.stop()).toBe(0);
  expect(agent.log()).toContain("terminating (SIGTERM)");
});

test("--inetd serves one request on stdin/stdout", async () => {
  const proc = Bun.spawn([AGENT_BINARY, "--inetd", "--whitelist", toolchain().whitelist, "--log-stderr"], {
    cwd,
    env: { ...process.env, PATH: `${toolchain().bin}:${process.env.PATH}`, TMPDIR: sharedTempDir("inetd-tmp-") },
    stdin: compileRequest(2, [GCC, "-c", "x.c", "-o", "x.o"], "int answer = 42;\n"),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).bytes(), new Response(proc.stderr).text(), proc.exited]);
  expect(exitCode).toBe(0);
  const reply = parseReply(stdout);
  expect(reply.status).toBe(0);
  expect(reply.object.subarray(1, 4)).toEqual(new TextEncoder().encode("ELF"));
  expect(stderr).toContain("COMPILE_OK");
});
