/**
 * The farm's parts of the built agent on loopback: /status and /hosts between two peered
 * agents, the stats access check on the new routes, --drain-delay, --reuse-port and
 * --keepalive. The cluster test (test/cluster) runs them across network namespaces.
 */
import { describe, expect, test } from "bun:test";
import { AGENT_BINARY, type Agent, freePort, startAgent } from "../helpers/agent.ts";
import { compileRequest, exchange, parseReply } from "../helpers/tokens.ts";
import { GCC, toolchain } from "../helpers/toolchain.ts";
import { until } from "../helpers/wait.ts";

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

const compiles = async (agent: Agent) =>
  parseReply(await exchange(agent.port, compileRequest(2, [GCC, "-c", "x.c", "-o", "x.o"], "int x;\n"))).status === 0;

describe("the farm on loopback", () => {
  test("two peered agents: each one's /hosts lists both, /status describes it", async () => {
    const [statsA, statsB] = [freePort(), freePort()];
    const peer = (own: number, other: number) => [
      "--stats",
      "--stats-port",
      String(own),
      "--peers",
      `127.0.0.1:${other},127.0.0.1:${own}`,
      "--peers-interval",
      "0.2",
    ];
    await using a = await startAgent({ jobs: 3, args: peer(statsA, statsB) });
    await using b = await startAgent({ jobs: 5, args: peer(statsB, statsA) });
    const line = [`127.0.0.1:${a.port}/3,lzo`, `127.0.0.1:${b.port}/5,lzo`]
      .sort((x, y) => Number(x.split(/[:/]/)[1]) - Number(y.split(/[:/]/)[1]))
      .join(" ");
    for (const port of [statsA, statsB]) await until(async () => (await get(port, "/hosts")).body === `${line}\n`, `/hosts on ${port}`);
    // The compilers are asked once /status is first wanted (the peers' polls did that).
    let status: Record<string, unknown> & { compilers: { machine?: string }[] } = { compilers: [] };
    await until(async () => {
      status = JSON.parse((await get(statsA, "/status")).body);
      return status.compilers.every((compiler) => compiler.machine !== undefined);
    }, "the compilers' identities");
    expect(status).toEqual({
      sandbox: expect.objectContaining({ mode: "auto", enforced: expect.any(Boolean), abi: expect.any(Number) }),
      cache: { enabled: false },
      id: expect.any(String),
      version: expect.any(String),
      address: `127.0.0.1:${a.port}`,
      host: "127.0.0.1",
      port: a.port,
      slots: 3,
      running: 0,
      queued: 0,
      draining: false,
      protocols: [1, 2, 3],
      compilers: expect.arrayContaining([{ name: GCC, machine: "powerpc-linux-gnu", version: expect.any(String) }]),
    });
    expect(a.log()).toContain(`peer 127.0.0.1:${statsB} is live: 127.0.0.1:${b.port}/5`);
  });

  test("/status and /hosts are refused outside --stats-allow; the probes are not", async () => {
    const stats = freePort();
    await using _agent = await startAgent({ args: ["--stats", "--stats-port", String(stats), "--stats-allow", "10.0.0.0/8"] });
    for (const path of ["/status", "/hosts", "/hosts?format=json&pump=1"]) expect((await get(stats, path)).status).toBe(403);
    expect((await get(stats, "/readyz")).status).toBe(200);
  });

  test("--advertise sets what /status and /hosts publish", async () => {
    const stats = freePort();
    await using agent = await startAgent({ args: ["--stats", "--stats-port", String(stats), "--advertise", "[10.1.2.3]:30362"] });
    expect((await get(stats, "/hosts?pump=1")).body).toBe("10.1.2.3:30362/4,lzo,cpp\n");
    expect(JSON.parse((await get(stats, "/hosts?format=json")).body)).toEqual({
      line: "10.1.2.3:30362/4,lzo",
      hosts: [{ spec: "10.1.2.3:30362/4,lzo", address: "10.1.2.3:30362", slots: 4, protocols: [1, 2, 3], self: true }],
    });
    expect(agent.log()).toContain("clients should use 10.1.2.3:30362/4");
  });

  test("--drain-delay: on SIGTERM /readyz fails at once while new jobs still compile; then the drain, exit 0", async () => {
    const stats = freePort();
    await using agent = await startAgent({ args: ["--stats", "--stats-port", String(stats), "--drain-delay", "2"] });
    process.kill(agent.pid, "SIGTERM");
    await agent.waitForLog(
      /draining \(SIGTERM\): 0 connection\(s\) in flight; \/readyz fails, new jobs are still taken for --drain-delay 2s/,
    );
    expect(await get(stats, "/readyz")).toEqual({ status: 503, body: "draining\n" });
    expect(JSON.parse((await get(stats, "/status")).body).draining).toBe(true);
    expect((await get(stats, "/hosts")).body).toBe("\n");
    expect(await compiles(agent)).toBe(true);
    expect(await agent.stop()).toBe(0);
    expect(agent.log()).toMatch(/draining \(SIGTERM\)[\s\S]*COMPILE_OK[\s\S]*terminating \(SIGTERM\)/);
  });

  test("--reuse-port: a second agent binds the same ports beside the first, and keeps the address serving when the first stops", async () => {
    const stats = freePort();
    const args = ["--stats", "--stats-port", String(stats), "--reuse-port"];
    await using first = await startAgent({ args });
    await using second = await startAgent({ port: first.port, args });
    expect(await first.stop()).toBe(0);
    expect(await compiles(second)).toBe(true);
    expect((await get(stats, "/readyz")).status).toBe(200);
  });

  test("without --reuse-port a second agent on the same port fails to bind (exit 102)", async () => {
    await using first = await startAgent({});
    const clash = Bun.spawnSync([
      AGENT_BINARY,
      "--daemon",
      "--no-detach",
      "--listen",
      "127.0.0.1",
      "--port",
      String(first.port),
      "--allow",
      "127.0.0.1",
      "--whitelist",
      toolchain().whitelist,
    ]);
    expect(clash.exitCode).toBe(102);
    expect(clash.stderr.toString()).toContain(`failed to bind 127.0.0.1 port ${first.port}`);
  });

  test.each([
    [[], true],
    [["--keepalive", "0"], false],
  ])("%j: TCP keepalive on accepted connections: %p", async (flags, keepalive) => {
    const stats = freePort();
    await using agent = await startAgent({ args: ["--stats", "--stats-port", String(stats), ...flags] });
    const socket = await Bun.connect({ hostname: "127.0.0.1", port: agent.port, socket: { data() {} } });
    try {
      // Accepted by the agent, not only by the kernel: its socket options are set by then.
      await until(async () => (await get(stats, "/")).body.includes("dcc_tcp_accept 1\n"), "the agent to accept");
      const shown = Bun.spawnSync(["ss", "-tnoH", "state", "established", `( sport = :${agent.port} )`]).stdout.toString();
      expect(shown).toContain(`127.0.0.1:${agent.port}`);
      expect(/timer:\(keepalive,(59|60)sec/.test(shown)).toBe(keepalive);
    } finally {
      socket.end();
    }
  });
});
