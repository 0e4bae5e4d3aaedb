/**
 * `--sandbox auto|required|off` on this kernel and, through the DISTCCD_SANDBOX_SIMULATE seam, on
 * one with an older Landlock ABI or a seccomp profile that refuses the syscalls: `auto` logs what
 * it enforces and serves, `required` refuses to start with one line and exit code 112, and
 * --version and /metrics say what is in force.
 */
import { describe, expect, test } from "bun:test";
import { landlockAbi } from "../../src/sandbox/landlock.ts";
import { openLibc } from "../../src/sandbox/libc.ts";
import { AGENT_BINARY, freePort, sharedTempDir, startAgent } from "../helpers/agent.ts";
import { run } from "../helpers/distcc.ts";
import { compileRequest, exchange, parseReply } from "../helpers/tokens.ts";
import { GCC, toolchain } from "../helpers/toolchain.ts";

const cwd = sharedTempDir("sandbox-modes-");
const good = compileRequest(1, [GCC, "-c", "x.c", "-o", "x.o"], "int x = 1;\n");

async function metrics(port: number): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

const kernelAbi = landlockAbi(openLibc());

describe("auto", () => {
  test.each([
    [
      undefined,
      `abi="${kernelAbi}",filesystem="true",network="true",scope="true"`,
      /sandbox: Landlock ABI \d+ \(--sandbox auto\) enforces filesystem .*network .*scope/,
    ],
    [
      "abi=3",
      'abi="3",filesystem="true",network="false",scope="false"',
      /Landlock ABI 3 .*enforces filesystem .*not enforced: network \(needs Landlock ABI 4/,
    ],
    ["abi=5", 'abi="5",filesystem="true",network="true",scope="false"', /Landlock ABI 5 .*not enforced: scope \(needs Landlock ABI 6/],
    [
      "refuse",
      'abi="0",filesystem="false",network="false",scope="false"',
      /sandbox not enforced \(--sandbox auto\): landlock_create_ruleset failed: EPERM/,
    ],
  ])("simulating %s: logs what is enforced, serves, and /metrics says so", async (simulate, labels, line) => {
    const statsPort = freePort();
    await using agent = await startAgent({
      args: ["--stats", "--stats-port", String(statsPort)],
      env: simulate === undefined ? {} : { DISTCCD_SANDBOX_SIMULATE: simulate },
    });
    expect(agent.log()).toMatch(line);
    expect(parseReply(await exchange(agent.port, good)).status).toBe(0);
    expect(await metrics(statsPort)).toContain(`distccd_sandbox_info{${labels}} 1`);
  });

  test("--sandbox off logs that compilers run unconfined", async () => {
    await using agent = await startAgent({ args: ["--sandbox", "off"] });
    expect(agent.log()).toContain("sandbox off (--sandbox off): compilers run unconfined");
    expect(parseReply(await exchange(agent.port, good)).status).toBe(0);
  });
});

describe("required", () => {
  const start = (simulate: string) =>
    run(
      [
        AGENT_BINARY,
        "--daemon",
        "--no-detach",
        "--sandbox",
        "required",
        "--port",
        String(freePort()),
        "--whitelist",
        toolchain().whitelist,
      ],
      cwd,
      // A TMPDIR the agent can use once it has dropped root (start-up checks it first).
      { DISTCCD_SANDBOX_SIMULATE: simulate, TMPDIR: sharedTempDir("sandbox-required-") },
    );

  test.each([
    ["refuse", "landlock_create_ruleset failed: EPERM"],
    ["abi=0", "the kernel has no Landlock"],
    ["abi=3", "not enforced: network"],
  ])("simulating %s: refuses to start with one line and exit code 112", async (simulate, reason) => {
    const result = await start(simulate);
    expect(result.exitCode).toBe(112);
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      expect.stringContaining("distccd: ERROR: --sandbox required: compiles cannot be confined:"),
    ]);
    expect(result.stderr).toContain(reason);
  });

  test("on this kernel: starts and serves confined", async () => {
    await using agent = await startAgent({ args: ["--sandbox", "required"] });
    expect(agent.log()).toMatch(/Landlock ABI \d+ \(--sandbox required\) enforces/);
    expect(parseReply(await exchange(agent.port, good)).status).toBe(0);
  });
});

describe("--version", () => {
  test.each([
    [[], {}, /^ {2}sandbox: Landlock ABI \d+ \(--sandbox auto\) enforces/m],
    [["--sandbox", "off"], {}, /^ {2}sandbox off \(--sandbox off\)/m],
    [[], { DISTCCD_SANDBOX_SIMULATE: "refuse" }, /^ {2}sandbox not enforced \(--sandbox auto\)/m],
  ])("%j %j says what is in force", async (args, env, line) => {
    const result = await run([AGENT_BINARY, ...args, "--version"], cwd, env);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(line);
  });

  test("--sandbox takes only auto, required or off", async () => {
    const result = await run([AGENT_BINARY, "--sandbox", "sometimes", "--version"], cwd);
    expect(result.exitCode).toBe(101);
    expect(result.stderr).toContain("distccd: ERROR:");
  });
});
